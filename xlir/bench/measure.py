"""Cost measurements: peak resident memory per phase, folder sizes, and an encoder memo that
charges reused encodings their original cost.

Peak memory is the kernel's high-water mark of the bench process (``VmHWM`` in
``/proc/self/status``), reset at the start of each phase by writing ``5`` to
``/proc/self/clear_refs`` (Linux >= 4.0). It is therefore the peak resident set of the
*whole process* during that phase — Python, the libraries and models already loaded and
the collection included — so compare differences between systems (the baseline before
the phase is recorded too), not absolute values with another tool. Where the mark cannot
be reset, ``ru_maxrss`` (the peak since the process started) is reported and labelled so.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = ["PeakMemory", "Clock", "dir_bytes", "MemoEncoder"]

logger = logging.getLogger(__name__)


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class PeakMemory:
    """``with PeakMemory() as m: ...`` then ``m.peak_mb``, ``m.before_mb`` and ``m.method``."""

    def __enter__(self) -> "PeakMemory":
        gc.collect()
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.method = "VmHWM, reset at the start of the phase"
        except OSError:
            self.method = "ru_maxrss, peak since the process started (cannot reset on this system)"
        self.before_mb = _status_mb("VmRSS")
        self.peak_mb: float | None = None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.method.startswith("VmHWM"):
            self.peak_mb = _status_mb("VmHWM")
        else:
            import resource
            import sys

            scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
            self.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20

    def as_dict(self) -> dict[str, Any]:
        return {"peak_rss_mb": _round(self.peak_mb), "rss_before_mb": _round(self.before_mb), "method": self.method}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def dir_bytes(path: str | os.PathLike) -> int:
    """Total size of the files under ``path``."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


class MemoEncoder:
    """A dense encoder that computes each identical call once and charges it its original cost.

    Two calls are identical when the encoder identity, the role (queries or documents)
    and the list of texts (in order) are the same; the vectors returned are then the
    ones the first call returned, bit for bit. The seconds the first call took are
    *charged* on every reuse (:attr:`charged_s`), so that the cost a system reports is
    what it would cost alone. Calls with more than one text are also kept in ``folder``
    (``.npy`` plus the seconds), so a later run reuses them. Everything else (``identity``,
    ``dim``, ``name``) is the wrapped encoder's.
    """

    def __init__(self, inner: Any, folder: str | os.PathLike | None = None, *, salt: str = ""):
        self.inner = inner
        self.salt = salt  # settings that may change the vectors without changing identity() (batch size, device)
        self.name = inner.name
        self.folder = Path(folder) if folder is not None else None
        self._memo: dict[str, tuple[np.ndarray, float]] = {}
        self._identity: dict | None = None
        self.actual_s = 0.0  # seconds really spent encoding
        self.charged_s = 0.0  # seconds charged: actual for misses, the original cost for hits
        self.hits = 0
        self.misses = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def identity(self) -> dict:
        if self._identity is None:
            self._identity = self.inner.identity()
        return self._identity

    def __getattr__(self, attr: str) -> Any:
        if attr == "inner":
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def _key(self, role: str, texts: Sequence[str]) -> str:
        h = hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode())
        h.update(self.salt.encode() + b"\0" + role.encode())
        for t in texts:
            h.update(len(t).to_bytes(8, "little"))
            h.update(t.encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:32]

    def _call(self, role: str, texts: Sequence[str], fn) -> np.ndarray:
        texts = list(texts)
        key = self._key(role, texts)
        found = self._memo.get(key)
        if found is None and self.folder is not None and len(texts) > 1:
            found = self._load(key)
        if found is not None:
            vectors, seconds = found
            self.hits += 1
            self.charged_s += seconds
            return vectors.copy()
        start = time.perf_counter()
        vectors = np.asarray(fn(texts))
        seconds = time.perf_counter() - start
        self.misses += 1
        self.actual_s += seconds
        self.charged_s += seconds
        self._memo[key] = (vectors.copy(), seconds)
        if self.folder is not None and len(texts) > 1:
            self._store(key, vectors, seconds, role, len(texts))
        return vectors

    def _load(self, key: str) -> tuple[np.ndarray, float] | None:
        try:
            meta = json.loads((self.folder / f"{key}.json").read_text())
            vectors = np.load(self.folder / f"{key}.npy", allow_pickle=False)
        except (OSError, ValueError):
            return None
        found = (vectors, float(meta["seconds"]))
        self._memo[key] = found
        return found

    def _store(self, key: str, vectors: np.ndarray, seconds: float, role: str, n: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{key}.tmp.npy"
        np.save(tmp, vectors, allow_pickle=False)
        os.replace(tmp, self.folder / f"{key}.npy")
        meta = {"seconds": seconds, "role": role, "texts": n, "encoder": self.identity().get("model")}
        (self.folder / f"{key}.json").write_text(json.dumps(meta))  # after the vectors: it marks them complete

    def encode_queries(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        return self._call("q", texts, lambda x: self.inner.encode_queries(x, **kwargs))

    def encode_docs(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        return self._call("d", texts, lambda x: self.inner.encode_docs(x, **kwargs))


class Clock:
    """Wall time of a phase, with a :class:`MemoEncoder`'s reuse charged at its original cost."""

    def __init__(self, memo: MemoEncoder | None = None):
        self.memo = memo

    def __enter__(self) -> "Clock":
        self._actual = self.memo.actual_s if self.memo else 0.0
        self._charged = self.memo.charged_s if self.memo else 0.0
        self._hits = self.memo.hits if self.memo else 0
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall_s = time.perf_counter() - self._start
        if self.memo is None:
            self.seconds, self.reused = self.wall_s, 0
            return
        actual = self.memo.actual_s - self._actual
        charged = self.memo.charged_s - self._charged
        self.seconds = self.wall_s - actual + charged
        self.reused = self.memo.hits - self._hits
