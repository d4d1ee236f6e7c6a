"""A persistent translation cache: SQLite, keyed by model identity, languages and text hash.

One file (``translations.sqlite`` in :func:`xlir.models.provision.xlir_home`, or in a
folder you choose) serves every model: a row is keyed by (model identity, source
language, target language, SHA-256 of the source text). The model identity names the
model *and* the decoding settings that change its output (beam size, compute type...),
so a different setting never returns a stale translation.

The database runs in WAL mode, so several processes can read and write it at once.
Writes are committed per batch: a translation interrupted at any point keeps every batch
it finished, and running it again translates only the rest (this is how
``xlir translate`` resumes).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Sequence

from xlir.errors import XlirError

__all__ = ["TranslationCache", "CACHE_FILE", "default_cache_path", "text_key"]

logger = logging.getLogger(__name__)

CACHE_FILE = "translations.sqlite"
_SCHEMA_VERSION = 1
_CHUNK = 500  # keys per SELECT: far below SQLite's limit on bound variables

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (id INTEGER PRIMARY KEY, identity TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS translations (
    model INTEGER NOT NULL REFERENCES models(id),
    src TEXT NOT NULL,
    tgt TEXT NOT NULL,
    text_sha256 BLOB NOT NULL,
    translation TEXT NOT NULL,
    PRIMARY KEY (model, src, tgt, text_sha256)
) WITHOUT ROWID;
"""


def default_cache_path() -> Path:
    """``xlir_home()/translations.sqlite``."""
    from xlir.models.provision import xlir_home

    return xlir_home() / CACHE_FILE


def text_key(text: str) -> bytes:
    """The cache key of a source text: SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).digest()


class TranslationCache:
    """Translations already made, persisted in SQLite.

    ``path`` is the database file, or a folder (``translations.sqlite`` inside it); the
    default is :func:`default_cache_path`. Counts of lookups and hits since opening are
    in :attr:`lookups` and :attr:`hits`. Use as a context manager or call :meth:`close`.
    Raises :class:`XlirError` when the file is not an xlir translation cache.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        path = Path(path) if path is not None else default_cache_path()
        if path.is_dir() or (not path.suffix and not path.exists()):
            path = path / CACHE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lookups = 0
        self.hits = 0
        self._model_ids: dict[str, int] = {}
        self._lock = threading.Lock()
        try:
            # check_same_thread=False + a lock: a progress thread may share the object.
            self._db = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at each checkpoint, never corrupt
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(_SCHEMA_VERSION),))
            version = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise XlirError(f"{path}: not a usable translation cache ({e}); delete it or pass another cache folder") from None
        if int(version) > _SCHEMA_VERSION:
            self._db.close()
            raise XlirError(f"{path}: translation cache schema {version} is newer than this xlir supports; upgrade xlir")
        logger.debug("translation cache %s", path)

    def _model_id(self, identity: str) -> int:
        mid = self._model_ids.get(identity)
        if mid is None:
            self._db.execute("INSERT OR IGNORE INTO models (identity) VALUES (?)", (identity,))
            mid = self._db.execute("SELECT id FROM models WHERE identity=?", (identity,)).fetchone()[0]
            self._model_ids[identity] = mid
        return mid

    def get_many(self, model: str, src: str, tgt: str, texts: Sequence[str]) -> dict[str, str]:
        """Translations of those ``texts`` that are cached, as ``{text: translation}``."""
        unique = list(dict.fromkeys(texts))
        by_key = {text_key(t): t for t in unique}
        found: dict[str, str] = {}
        with self._lock:
            mid = self._model_id(model)
            keys = list(by_key)
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT text_sha256, translation FROM translations WHERE model=? AND src=? AND tgt=? "
                    f"AND text_sha256 IN ({marks})",
                    (mid, src, tgt, *chunk),
                )
                for key, translation in rows:
                    found[by_key[key]] = translation
            self.lookups += len(unique)
            self.hits += len(found)
        return found

    def put_many(self, model: str, src: str, tgt: str, pairs: Iterable[tuple[str, str]]) -> int:
        """Store ``(text, translation)`` pairs in one transaction; returns how many."""
        with self._lock:
            mid = self._model_id(model)
            rows = [(mid, src, tgt, text_key(t), tr) for t, tr in pairs]
            # one transaction: all of the batch or none of it, and one fsync instead of one per row
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return len(rows)

    def count(self, model: str | None = None) -> int:
        """Number of cached translations, of one model identity or of all."""
        with self._lock:
            if model is None:
                return self._db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
            return self._db.execute(
                "SELECT COUNT(*) FROM translations t JOIN models m ON t.model=m.id WHERE m.identity=?", (model,)
            ).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "TranslationCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TranslationCache({str(self.path)!r})"
