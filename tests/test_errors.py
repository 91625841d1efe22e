"""The exception tree drawn in `wastewatch.errors` is the tree the code defines: each class named in
the drawing exists where it says and derives from the class it hangs under."""

from __future__ import annotations

import importlib
import pkgutil
import re

import wastewatch.errors
from wastewatch.errors import WastewatchError

# a drawn line: the tree prefix, the class name, then (optionally) where the leaf is defined
LINE = re.compile(r"^(?P<prefix>[ │]*[├└]── )(?P<name>\w+)(?: \(\w+\))?\s+(?P<module>[a-z_]+(?:\.[a-z_]+)+)?")
PACKAGES = ("launch", "api", "ingest", "alerts", "compliance", "simulators", "wastewatch")
BRANCHES = {name for name in dir(wastewatch.errors) if isinstance(getattr(wastewatch.errors, name), type)}


def drawn_tree() -> list[tuple[int, str, str | None]]:
    """(depth, class name, defining module or None for a branch of wastewatch.errors)."""
    doc = wastewatch.errors.__doc__ or ""
    rows = []
    for line in doc.splitlines():
        match = LINE.match(line.strip("\n")[4:])  # the docstring's drawing is indented by four spaces
        if match:
            rows.append((len(match["prefix"]) // 4, match["name"], match["module"]))
    return rows


def test_every_drawn_class_derives_from_its_parent_in_the_drawing() -> None:
    rows = drawn_tree()
    assert len(rows) >= 20, rows
    parents: list[type] = [WastewatchError]
    module_of_parent: dict[int, str | None] = {}
    for depth, name, module in rows:
        if name in BRANCHES:
            cls = getattr(wastewatch.errors, name)
        else:
            where = module or module_of_parent.get(depth - 1)
            assert where, f"{name}: the drawing names no module"
            cls = getattr(importlib.import_module(where), name)
        del parents[depth:]
        assert issubclass(cls, parents[-1]), f"{name} does not derive from {parents[-1].__name__}"
        parents.append(cls)
        module_of_parent[depth] = module


def test_every_error_class_of_the_code_is_drawn() -> None:
    for package in PACKAGES:
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, f"{package}."):
            importlib.import_module(module.name)
    found, pending = set(), [WastewatchError]
    while pending:
        cls = pending.pop()
        found.add(cls.__name__)
        pending += cls.__subclasses__()
    assert found == {name for _, name, _ in drawn_tree()} | {"WastewatchError"}


def test_the_api_requests_errors_keep_their_builtin_bases() -> None:
    from alerts.store import AlertNotFound, AlertStateError
    from api.timerange import RangeError

    assert issubclass(AlertNotFound, LookupError) and issubclass(AlertStateError, ValueError) and issubclass(RangeError, ValueError)
