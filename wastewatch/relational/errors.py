"""The relational database's one exception.

Exceptions:
    DatabaseError   the database could not be opened, or a statement failed
"""

from __future__ import annotations

from wastewatch.errors import WastewatchError


class DatabaseError(WastewatchError):
    """The relational database could not be opened, or a statement failed."""
