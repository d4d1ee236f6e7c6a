"""Deterministic shards of a corpus file (line ranges) and the job folder that makes a
distributed build resumable.

A shard is a range of the file's non-blank lines, found by one pass over the file and
recorded with its byte offsets, so a worker reads only its own part (a gzipped file is
read from its start, as gzip cannot seek). The same file and shard count always give
the same shards.

The job folder (``INDEX.partial`` beside the output) holds ``job.json`` (the shard plan
and a key naming the corpus file, its size and mtime, the shard count and what is being
built) and one finished output per shard. A re-run with the same key reuses every
finished shard; a different key wipes the folder and starts over.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

from xlir.errors import InputError, XlirError
from xlir.io._files import check_readable, open_binary, suffixes
from xlir.types import Doc

__all__ = ["Shard", "plan_shards", "read_shard", "JobDir", "ShardError"]

logger = logging.getLogger(__name__)

JOB_FILE = "job.json"
_JOB_VERSION = 1


class ShardError(XlirError, RuntimeError):
    """A distributed job cannot go on: a shard failed for good, or its output is missing."""


@dataclasses.dataclass(frozen=True)
class Shard:
    """Lines ``first_line`` (1-based) up to, not including, ``end_line`` of the corpus:
    ``docs`` non-blank lines starting at byte ``byte_start`` (None for a gzipped file)."""

    index: int
    first_line: int
    end_line: int
    docs: int
    byte_start: int | None
    byte_end: int | None

    @property
    def name(self) -> str:
        """The shard's output name, ``seg-000003``: a segment of the index."""
        return f"seg-{self.index:06d}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def plan_shards(path: str | os.PathLike, n_shards: int) -> list[Shard]:
    """Split ``path``'s non-blank lines into ``n_shards`` contiguous ranges of (near)
    equal size; fewer shards when the file has fewer documents.

    Two passes over the bytes of the file (count, then boundaries); nothing is parsed, a
    bad line is reported by the worker that reads it. Raises :class:`InputError` for a
    missing or empty file, ``ValueError`` for ``n_shards < 1``.
    """
    if n_shards < 1:
        raise ValueError(f"the number of shards must be >= 1, got {n_shards}")
    p = check_readable(path)
    gz = suffixes(p)[1]
    total = 0
    with open_binary(p) as f:
        for raw in f:
            if raw.strip():
                total += 1
    if total == 0:
        raise InputError("the corpus has no documents", path=p)
    n = min(n_shards, total)
    # shard i holds documents [i*total//n, (i+1)*total//n)
    starts = [i * total // n for i in range(n)] + [total]
    shards: list[Shard] = []
    doc = 0
    pos = 0
    open_shard: tuple[int, int] | None = None  # (first_line, byte_start) of the shard being filled
    with open_binary(p) as f:
        for lineno, raw in enumerate(f, 1):
            if raw.strip():
                if doc == starts[len(shards)]:
                    open_shard = (lineno, pos)
                doc += 1
                if doc == starts[len(shards) + 1]:
                    first, byte_start = open_shard  # type: ignore[misc]
                    i = len(shards)
                    shards.append(Shard(i, first, lineno + 1, starts[i + 1] - starts[i],
                                        None if gz else byte_start, None if gz else pos + len(raw)))
            pos += len(raw)
    logger.debug("%s: %d documents in %d shards", p, total, len(shards))
    return shards


def _numbered_lines(path: Path, shard: Shard) -> Iterator[tuple[int, str]]:
    with open_binary(path) as f:
        if shard.byte_start is not None:
            f.seek(shard.byte_start)
            lineno, limit = shard.first_line, shard.byte_end
            pos = shard.byte_start
        else:
            lineno, limit, pos = 1, None, 0
        try:
            for raw in f:
                if lineno >= shard.end_line or (limit is not None and pos >= limit):
                    return
                pos += len(raw)
                if lineno >= shard.first_line and raw.strip():
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as e:
                        raise InputError(f"invalid UTF-8 ({e.reason})", path=path, line=lineno) from None
                    if lineno == 1 and line.startswith("\ufeff"):
                        line = line[1:]
                    yield lineno, line.rstrip("\r\n")
                lineno += 1
        except (OSError, EOFError) as e:
            raise InputError(f"cannot read file: {e}", path=path) from None


def read_shard(path: str | os.PathLike, shard: Shard, *, lang: str | None = None, fmt: str | None = None) -> Iterator[Doc]:
    """The documents of one shard, checked as strictly as :func:`xlir.io.read_corpus`
    checks a whole file (errors name the file and line). Duplicate ids are caught within
    the shard here and across shards by the job's driver."""
    from xlir.io import corpus as _corpus

    p = check_readable(path)
    fmt = fmt or _corpus._format_of(p)
    if fmt not in ("jsonl", "tsv"):
        raise ValueError(f"unknown corpus format {fmt!r}; expected 'jsonl' or 'tsv'")
    seen: dict[str, int] = {}
    n = 0
    for lineno, line in _numbered_lines(p, shard):
        doc = _parse_line(line, fmt, lang, p, lineno)
        first = seen.setdefault(doc.id, lineno)
        if first != lineno:
            raise InputError(f"duplicate doc id {doc.id!r} (first seen on line {first})", path=p, line=lineno)
        n += 1
        yield doc
    if n != shard.docs:
        raise ShardError(f"{p}: shard {shard.index} should hold {shard.docs} documents, found {n}; "
                         "the file changed after the job was planned")


def _parse_line(line: str, fmt: str, lang: str | None, path: Path, lineno: int) -> Doc:
    # The whole-file readers of xlir.io.corpus iterate over a path; their per-record parsing
    # is reused here, one line at a time.
    from xlir.io.corpus import parse_id, parse_jsonl_doc

    if fmt == "tsv":
        cols = line.split("\t")
        if len(cols) != 2:
            raise InputError(f"expected 2 tab-separated columns (id, text), got {len(cols)}", path=path, line=lineno)
        return Doc(id=parse_id(cols[0], "doc id", path, lineno), text=cols[1], lang=lang)
    return parse_jsonl_doc(line, lang, path, lineno)


def corpus_identity(path: str | os.PathLike) -> dict[str, Any]:
    """What names a corpus file's content for resuming: absolute path, size, mtime."""
    p = check_readable(path)
    st = p.stat()
    return {"path": str(p.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


class JobDir:
    """The working folder of one distributed job: its shard plan and finished shards.

    ``what`` describes the job's output (retriever and parameters, or translator and
    languages); together with the corpus identity and the shard count it forms the key.
    ``n_shards`` None resumes the plan already there when its corpus and ``what`` match,
    else plans ``default_shards``.
    """

    def __init__(self, folder: str | os.PathLike, corpus: str | os.PathLike, what: dict[str, Any],
                 n_shards: int | None, *, default_shards: int = 1):
        self.folder = Path(folder)
        self.corpus = Path(corpus)
        ident = corpus_identity(corpus)
        self.shards: list[Shard] = []
        old = self._read()
        if n_shards is None and old and old.get("corpus") == ident and old.get("what") == what:
            n_shards = old["n_shards"]  # resuming without --shards: keep the plan that is there
        if n_shards is None:
            n_shards = default_shards
        self.key = _key(ident, what, n_shards)
        if old is not None and old.get("key") == self.key:
            self.shards = [Shard(**s) for s in old["shards"]]
            done = [s.index for s in self.shards if self.is_done(s)]
            logger.info("resuming %s: %d of %d shards already finished", self.folder, len(done), len(self.shards))
        else:
            if self.folder.exists():
                logger.info("%s holds another job; starting over", self.folder)
                shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)
            self.shards = plan_shards(corpus, n_shards)
            from xlir.io.atomic import atomic_write_text

            state = {"version": _JOB_VERSION, "key": self.key, "corpus": ident, "what": what, "n_shards": n_shards,
                     "shards": [s.to_dict() for s in self.shards]}
            atomic_write_text(self.folder / JOB_FILE, json.dumps(state, ensure_ascii=False, indent=1))

    def _read(self) -> dict[str, Any] | None:
        try:
            state = json.loads((self.folder / JOB_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) and state.get("version") == _JOB_VERSION else None

    def output(self, shard: Shard, suffix: str = "") -> Path:
        """Where shard ``shard`` writes its output (a segment folder, or a file with ``suffix``)."""
        return self.folder / f"{shard.name}{suffix}"

    def is_done(self, shard: Shard, suffix: str = "") -> bool:
        """Whether the shard's output is complete: an index folder with a valid manifest of
        ``shard.docs`` documents, or (``suffix``) a file with a ``.done`` marker beside it."""
        out = self.output(shard, suffix)
        if suffix:
            return out.is_file() and _read_marker(out) == shard.docs
        from xlir.store import read_manifest

        try:
            return read_manifest(out)["doc_count"] == shard.docs
        except (XlirError, OSError):
            return False

    def pending(self, suffix: str = "") -> list[Shard]:
        return [s for s in self.shards if not self.is_done(s, suffix)]

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def mark_done(out: Path, docs: int) -> None:
    """Record that the file ``out`` is complete with ``docs`` records (written after it)."""
    from xlir.io.atomic import atomic_write_text

    atomic_write_text(out.with_name(out.name + ".done"), json.dumps({"docs": docs, "bytes": out.stat().st_size}))


def _read_marker(out: Path) -> int | None:
    try:
        marker = json.loads(out.with_name(out.name + ".done").read_text())
    except (OSError, ValueError):
        return None
    return marker.get("docs") if marker.get("bytes") == out.stat().st_size else None


def _key(ident: dict, what: dict, n_shards: int) -> str:
    h = hashlib.sha256(json.dumps({"corpus": ident, "what": what, "n_shards": n_shards}, sort_keys=True,
                                  default=str).encode())
    return h.hexdigest()[:16]
