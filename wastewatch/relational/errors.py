"""The relational database's one exception.

Exceptions:
    DatabaseError   the database could not be opened, or a statement failed
"""

from __future__ import annotations


class DatabaseError(Exception):
    """The relational database could not be opened, or a statement failed."""
