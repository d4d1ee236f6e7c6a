"""Shared helpers for the readers and writers: numbered lines, gzip, output targets."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import os
import re
from pathlib import Path
from typing import IO, Iterator

from xlir.errors import InputError
from xlir.io.atomic import atomic_open

logger = logging.getLogger(__name__)

_SPACE = re.compile(r"\s")
_DIGITS = re.compile(r"[0-9]+")


def suffixes(path: Path) -> tuple[str, bool]:
    """The format suffix (lower case, ``.gz`` removed) and whether the file is gzipped."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    return Path(name).suffix, gz


def check_readable(path: str | os.PathLike) -> Path:
    """``path`` as a Path; raises :class:`InputError` when it is not a file."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file" if not p.exists() else "not a file", path=p)
    return p


def open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if suffixes(path)[1] else open(path, "rb")


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line_number, text)`` for every non-blank line, without its line end.

    Each line is decoded on its own so that bad UTF-8 is reported with its line number.
    """
    with open_binary(path) as f:
        try:
            for lineno, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise InputError(f"invalid UTF-8 ({e.reason})", path=path, line=lineno) from None
                if lineno == 1 and line.startswith("\ufeff"):  # BOM from Windows editors
                    line = line[1:]
                line = line.rstrip("\r\n")
                if line.strip():
                    yield lineno, line
        except (OSError, EOFError) as e:  # truncated or corrupt gzip
            raise InputError(f"cannot read file: {e}", path=path) from None


def json_object_line(line: str, path: Path, lineno: int) -> dict:
    """One JSONL line that must hold a JSON object; errors name ``path`` and ``lineno``."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} (column {e.colno})", path=path, line=lineno) from None
    if not isinstance(obj, dict):
        raise InputError(f"expected a JSON object, got {type(obj).__name__}", path=path, line=lineno)
    return obj


def count_lines(path: str | os.PathLike) -> int:
    """Number of non-blank lines in ``path`` (gzip-aware), e.g. a progress bar's total."""
    p = check_readable(path)
    n = 0
    with open_binary(p) as f:
        for raw in f:
            if raw.strip():
                n += 1
    return n


@contextlib.contextmanager
def open_output(target: str | os.PathLike | IO[str]) -> Iterator[IO[str]]:
    """A text stream for ``target``: a file object is used as is (and not closed);
    a path is written atomically, gzipped when it ends in ``.gz``."""
    if hasattr(target, "write"):
        yield target  # type: ignore[misc]
        return
    path = Path(target)  # type: ignore[arg-type]
    if suffixes(path)[1]:
        with atomic_open(path, "wb") as raw:
            # mtime=0: the same data gives the same bytes, so outputs can be compared.
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
                with io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as text:
                    yield text
    else:
        with atomic_open(path, "w") as f:
            yield f


def check_token(value: object, what: str) -> str:
    """``value`` if it is a non-empty string without whitespace (a TREC file field)."""
    if not isinstance(value, str) or not value or _SPACE.search(value):
        raise ValueError(f"{what} {value!r} cannot be written: it must be a non-empty string without whitespace")
    return value


def natural_qid_order(qids) -> list[str]:
    """Query ids sorted numerically when all are ASCII digits, else as strings."""
    qids = list(qids)
    if qids and all(_DIGITS.fullmatch(q) for q in qids):
        return sorted(qids, key=lambda q: (int(q), q))  # q breaks ties like "01" vs "1"
    return sorted(qids)


def has_space(value: str) -> bool:
    return _SPACE.search(value) is not None


def read_config_file(path: str | os.PathLike, what: str) -> tuple[Path, object]:
    """Parse a YAML (``.yaml``/``.yml``, needs PyYAML) or JSON file; ``what`` names it in errors.

    Returns (path, parsed value). Raises InputError (with the line) for a missing or
    unparsable file.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such {what} file", path=p)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            from xlir.errors import MissingDependencyError

            raise MissingDependencyError(
                f'{p}: reading YAML needs PyYAML; pip install "xlir[bench]" (or write the {what} as JSON)'
            ) from None
        try:
            return p, yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise InputError(f"invalid YAML: {getattr(e, 'problem', None) or e}", path=p, line=line) from None
    try:
        return p, json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} (column {e.colno})", path=p, line=e.lineno) from None
