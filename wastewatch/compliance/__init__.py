"""The compliance engine's pure core: regulatory profiles, O2/moisture correction, windowed averages
with quality codes, confidence-interval subtraction, day/year validity and the compliance tests.

Pipeline (domain.md §8.3): samples → `normalise` → `averaging` → `confidence` → `daily` →
`validity` → `checks` / `abnormal`. Nothing here reads a clock, the store or the network.
"""
