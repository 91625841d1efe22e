"""`wastewatch dashboards build`: each `grafana/*.dashboard.py` rendered to `grafana/dashboards/<name>.json`.

The JSON is deterministic (sorted keys, fixed panel ids and uids), so the committed files can be
checked against a fresh build (`--check`, and the tests).
"""

from __future__ import annotations

import json
from pathlib import Path

from grafanalib._gen import DashboardEncoder, loader

SOURCE_DIR = Path(__file__).resolve().parent
OUTPUT_DIR = SOURCE_DIR / "dashboards"
SUFFIX = ".dashboard.py"


def dashboard_sources(source_dir: Path = SOURCE_DIR) -> list[Path]:
    return sorted(source_dir.glob(f"*{SUFFIX}"))


def output_name(source: Path) -> str:
    return source.name.removesuffix(SUFFIX) + ".json"


def render(source: Path) -> str:
    """The dashboard JSON of one definition file."""
    board = loader(str(source))
    return json.dumps(board.to_json_data(), cls=DashboardEncoder, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def build(output_dir: Path = OUTPUT_DIR, source_dir: Path = SOURCE_DIR) -> list[Path]:
    """Write every dashboard; returns the files written."""
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in dashboard_sources(source_dir):
        path = output_dir / output_name(source)
        path.write_text(render(source), encoding="utf-8")
        written.append(path)
    return written


def drift(output_dir: Path = OUTPUT_DIR, source_dir: Path = SOURCE_DIR) -> list[str]:
    """Files that differ from a fresh build, are missing, or have no definition any more."""
    problems = []
    expected = {output_name(s): render(s) for s in dashboard_sources(source_dir)}
    for name, content in sorted(expected.items()):
        path = output_dir / name
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{path}: differs from its definition")
    for path in sorted(output_dir.glob("*.json")):
        if path.name not in expected:
            problems.append(f"{path}: no {path.stem}{SUFFIX} makes it")
    return problems
