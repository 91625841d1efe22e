"""The floor plan (README "Layout", `.importlinter`) holds: every module stands on a floor, the contracts
are kept, and no import hides inside a function unless it is a deliberate lazy load with its reason."""

from __future__ import annotations

import ast
import configparser
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"
LAZY = re.compile(r"#\s*lazy:\s*\S")


def _config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(CONFIG, encoding="utf-8")
    return parser


def _root_packages() -> list[str]:
    return _config()["importlinter"]["root_packages"].split()


def _floor_entries() -> list[str]:
    layers = _config()["importlinter:contract:floors"]["layers"]
    return [name.strip() for line in layers.splitlines() for name in re.split(r"[|:]", line) if name.strip()]


def _modules() -> Iterator[tuple[str, Path]]:
    for package in _root_packages():
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            if "." in relative.name:  # grafana/*.dashboard.py: definitions run by `wastewatch dashboards build`
                continue
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            yield ".".join(parts), path


def _placed(module: str, entries: list[str]) -> bool:
    return any(module == e or module.startswith(e + ".") or e.startswith(module + ".") for e in entries)


def test_every_module_stands_on_a_floor() -> None:
    entries = _floor_entries()
    unplaced = [m for m, _ in _modules() if not _placed(m, entries)]
    assert not unplaced, f"modules on no floor of .importlinter (add each to the floor it belongs to): {unplaced}"


def test_the_import_contracts_are_kept() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--no-cache", "--config", str(CONFIG)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " broken" in result.stdout and "0 broken" in result.stdout


def _function_imports(path: Path) -> Iterator[tuple[int, list[str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    for node in ast.walk(ast.parse("\n".join(lines), str(path))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import | ast.ImportFrom):
                # the import's own line and the run of imports, comments and blank lines just above it
                above = [lines[inner.lineno - 1]]
                i = inner.lineno - 2
                while i >= 0 and ((s := lines[i].strip()) == "" or s.startswith(("#", "from ", "import "))):
                    above.append(s)
                    i -= 1
                yield inner.lineno, above


def test_imports_inside_functions_are_only_marked_lazy_loads() -> None:
    hidden = [
        f"{path.relative_to(ROOT)}:{line}"
        for _, path in _modules()
        for line, context in _function_imports(path)
        if not any(LAZY.search(text) for text in context)
    ]
    assert not hidden, f"imports inside functions without a `# lazy: why` comment (move them to the top): {hidden}"


@pytest.mark.parametrize("source", [
    "def f():\n    import json\n",
    "def f():\n    # because\n    from os import path\n",
])
def test_the_lazy_check_finds_an_unmarked_import(tmp_path: Path, source: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    found = list(_function_imports(path))
    assert len(found) == 1 and not any(LAZY.search(t) for t in found[0][1])
    path.write_text(source.replace("def f():\n", "def f():\n    # lazy: heavy\n"), encoding="utf-8")
    assert all(any(LAZY.search(t) for t in context) for _, context in _function_imports(path))
