"""The one rule for text in any CSV the API writes (tabular answers and reports): a cell a spreadsheet
would run as a formula gets a leading quote. Plain Python, no imports of the web stack: the report
command line uses it too."""

from __future__ import annotations

import json
import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
"""A text cell starting with one of these is run as a formula by spreadsheets (OWASP's list, and LF)."""
NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
"""A plain number (`-12.5`, `1e-3`) is a value, not a formula: it stays as it is."""


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell: lists and dicts as JSON, formula-like text quoted, anything else unchanged."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.match(value):
        return "'" + value
    return value
