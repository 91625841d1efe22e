"""Tamper-evident records: an append-only hash chain of daily Merkle roots per plant.

Each record the regulator relies on (the validated averages, the days, the amendments, the alert
transitions, the API's audit trail) is a leaf: SHA-256 of its canonical form (`hashing`). A plant's
local day is sealed into one Merkle root, and the roots into a chain,
chain_n = SHA-256(chain_{n-1} || root_n), kept in the append-only table `ledger_days`.

    hashing.py   canonical serialisation, leaf hashes, Merkle root, chain (floor 1, pure)
    check.py     verification of recomputed leaves against the sealed days, amendments allowed (floor 1, pure)
    table.py     the `ledger_days` table: append a sealed day, read the chain (floor 2)
    leaves.py    stored records as ledger records (kind, key, day, content) and the leaves a day keeps (floor 1, pure)
    trails.py    the alert transitions and the API audit rows up to a seal's watermarks as ledger records (floor 2)

`compliance.ledger_records` reads the compliance results from the time-series store and
`launch.ledger` seals and verifies (`wastewatch ledger seal`, `wastewatch verify`).
"""
