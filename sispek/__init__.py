"""The SISPEK upload (Permen LHK 13/2021): 5-minute stack values sent to KLHK's "Sistem Informasi
Pemantauan Emisi Industri Kontinyu" every hour, through a durable outbox. **Unofficial until
confirmed with KLHK**: no published interface description was found, so every endpoint, field and
time format below is an assumption [A] built on what KLHK states publicly.

What is known [C] (domain.md §1.3; KLHK's portal ditppu.menlhk.go.id/portal/sispek, found with the
search tool's "pages" corpus): the DAS acquires CEMS data every 5 minutes; the DIS (Data Interfacing
System) asks the SISPEK server for an authentication file whose codes it must use to send data every
hour; the server answers that the data arrived. KLHK's slides name "standarisasi data CEMS" and
"gangguan jaringan internet" (an outage's data is sent afterwards) as articles, without the schema.

What was searched and not found (2026-12-04): the "code" corpus for "SISPEK api", "sispek.menlhk.go.id",
"cerobong", "ppkl menlhk api v2 token app_id app_secret", "CEMS SISPEK gateway python/php"; `find_string
sispek` and `find_repos sispek` (only unrelated school and office apps of that name); the "issues" and
"pages" corpora. The one CEMS gateway found, Hawa CEMS Online (repository mazzdha/docs, files
docs/setting/sispek/readme.md and docs/petunjuk-pengoperasian/sync-logs.md), has a "SISPEK" settings
page and a "sync log" page that are both empty headings; its own API (docs/api/controllers/record.md)
averages per stack (`stackUID`) over "5m" but is not SISPEK's. KLHK's sister systems found in the
corpus (ONLIMO `ppkl.menlhk.go.id/onlimo/uji/connect/uji_data_onlimo`: a station id, date and clock
fields, an api key and secret in the body) suggest the shape, not SISPEK's names.

The client's design [A], every name an assumption to replace when KLHK hands over its specification:

    1. POST {base}/api/v2/token        {"app_id": …, "app_secret": …}
                                       → 200 {"status": "success", "token": "…", "expires_in": 3600}
    2. GET  {base}/api/v2/cerobong     Authorization: Bearer <token>
                                       → 200 {"status": "success", "data": [{"id_cerobong": "…",
                                          "nama": "…", "parameter": ["SO2", "NOx", …]}]}
    3. POST {base}/api/v2/cerobong/data   Authorization: Bearer <token>
                                       {"id_cerobong": "…", "data": [{"waktu": "2026-12-04 10:05:00",
                                          "parameter": {"SO2": 12.5, …}, "o2": 10.2, "laju_alir": 5600.0}, …]}
                                       → 200 {"status": "success", "receipt": "…", "diterima": n}
                                       → 401 the token expired (fetched again once, then retried)
                                       → 400/422 {"status": "error", "errors": […]}: not retried
                                       → 429, 5xx, timeouts, refused connections: retried with back-off

`waktu` is the 5-minute slot's start in the plant's local time (WIB for Kotim), "YYYY-MM-DD HH:MM:SS"
[A]. A value is the mean of the slot's *valid* readings; a parameter without one is left out of its
record and a slot without any is no record: nothing is fabricated. No idempotency key is known, so
the server is assumed to keep one record per (id_cerobong, waktu): a record sent again after a crash
replaces itself (the stand-in in tests/sispek_standin.py counts it once).

    settings.py   SispekSettings (WASTEWATCH_SISPEK_*)
    stacks.py     the stacks mapping file (sensors → SISPEK parameter names), validated; stacks/kotim.yaml is an example
    averages.py   5-minute values from raw samples (pure)
    reader.py     the raw readings from the time-series store
    schema.py     the tables: sispek_outbox, sispek_attempts, sispek_cursor, sispek_lease
    outbox.py     the durable outbox (one row per plant, stack and slot)
    client.py     the HTTP client (token, stacks list, submit) and SispekError
    uploader.py   queueing closed hours and delivering due rows, in time order per stack
    lease.py      one uploader per database (a lease renewed every pass)
    service.py    the loop `wastewatch sispek run` runs
    cli.py        `wastewatch sispek run|status`
"""
