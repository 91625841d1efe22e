"""The HTML report's stylesheet, and the Content-Security-Policy the page renders under.

The page has no script and no style attribute; its one inline stylesheet is allowed by its SHA-256
hash, and the charts are SVG images from `data:` URLs (an SVG image's own styles are the image's, not
the page's). So the page renders as designed under a policy that allows nothing else.
"""

from __future__ import annotations

import base64

from api.headers import csp_hash

REPORT_CSS = """
  body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; margin: 2em; color: #222; }
  h1 { font-size: 16pt; margin-bottom: 0.2em; } h2 { font-size: 13pt; border-bottom: 1px solid #2f6f4f; margin-top: 1.6em; }
  .sub { color: #555; } .figures { display: flex; flex-wrap: wrap; gap: 1em; }
  .figure { border: 1px solid #ccc; padding: 0.5em 0.8em; min-width: 10em; }
  .figure .value { font-size: 14pt; font-weight: bold; } .figure .label { font-size: 9pt; color: #555; }
  table { border-collapse: collapse; margin: 0.8em 0; font-size: 9.5pt; } th, td { border: 1px solid #999; padding: 0.2em 0.5em; overflow-wrap: normal; word-break: keep-all; hyphens: none; }
  h3 { font-size: 10.5pt; } .legend { font-size: 9pt; } .no-data { font-style: italic; color: #555; }
  th { background: #eef4f0; text-align: left; } .chart img { max-width: 100%; height: auto; }
  @media print { body { margin: 1cm; } h2 { page-break-after: avoid; } table, .chart { page-break-inside: avoid; } }
"""


REPORT_CSP = (
    f"default-src 'none'; style-src {csp_hash(REPORT_CSS)}; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Sent with the HTML report by the API (the security headers' default allows nothing at all)."""


def svg_image_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
