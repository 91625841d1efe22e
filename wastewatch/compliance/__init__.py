"""The compliance engine's pure core: regulatory profiles, O2/moisture correction, windowed averages
with quality codes, confidence-interval subtraction, day/year validity, the compliance tests and
regulatory findings, plant KPIs, and the records the results are stored as (averages, days,
amendments, abnormal-operation events: their measurements and their `Point` form).

Pipeline (domain.md §8.3): samples → `normalise` → `averaging` → `confidence` → `daily` →
`validity` → `checks` / `abnormal`. Nothing here reads a clock, the store or the network: the
compliance service (the top-level `compliance` package) fetches the inputs, runs this pipeline on
its clock and writes the results; `.importlinter` forbids this package the store, settings and
network libraries.
"""
