"""Monthly, quarterly and annual plant reports built once from the summaries (`report.py`), rendered as
JSON, CSV, printable HTML (inline SVG charts) or PDF (`render.py`), in Bahasa Indonesia or English
(`messages.py`), and e-mailed on a schedule (`mailer.py`).

Import from the submodules. Rendering pulls in matplotlib and fpdf2 (tens of MB), which the
`wastewatch` command line, and every worker it starts, must not pay for: only the report routes and
the report commands import `render.py`.
"""
