"""Waste manifests (Festronik, domain.md §7) and the mass balance: what each hospital declared it sent
against what the plant weighed and fed.

    parse.py      CSV and XLSX manifest files → rows, each bad row with its row number and reason (floor 1)
    reconcile.py  declared against received per manifest, per hospital and month, and the plant balance;
                  the discrepancies as findings (pure, floor 1)
    settings.py   ManifestSettings (WASTEWATCH_MANIFESTS_*: tolerance, grace period, header names) (floor 2)
    table.py      the manifest tables in the relational database and the idempotent import (floor 2)

Exceptions:
    ManifestFileError   the file is not a manifest table (parse.py; the API answers 422)
"""
