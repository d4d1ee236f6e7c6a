"""Helpers shared by the benchmarks: where things are, what ran where, tables and JSON.

Every result file records enough to reproduce or distrust a number: the machine (and its
load), the library versions, the git commit and whether the tree was dirty (plus a
digest of the xlir sources, since a dirty tree alone does not say *which* code ran), the
date and the command line. The implementations live in :mod:`xlir.bench.env`, which
``xlir bench`` uses too; this module keeps the benchmarks' names and paths.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from xlir.bench.env import fmt, markdown_table, write_json  # noqa: F401  (re-exported for the benchmarks)
from xlir.bench.env import environment as _environment

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_DATA = REPO.parent / "shared" / "data"

__all__ = ["REPO", "RESULTS", "DEFAULT_DATA", "xquad_dir", "environment", "markdown_table", "write_json", "fmt"]


def xquad_dir(data: Path) -> Path:
    """The XQuAD-R folder under a ``--data`` root; exits with a hint when it is missing."""
    folder = Path(data) / "xquad-r"
    if not (folder / "en.json").is_file():
        sys.exit(f"error: {folder}/en.json not found; pass --data DIR where DIR/xquad-r/{{lang}}.json exist")
    return folder


def environment() -> dict[str, Any]:
    """Machine, versions, git state, date and command line of this run (this checkout's git)."""
    return _environment(REPO)
