"""Finished chunks of a long encoding job, kept on disk so that a re-run resumes.

A chunk folder belongs to one build: it is keyed by the document ids, the encoder
identity and the chunk size, and is wiped when any of them changes. Each chunk is an
``.npz`` of named arrays, written to a temp name and renamed, so a crash never leaves a
half-written chunk that looks finished.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


class ChunkDir:
    def __init__(self, folder: Path, ids: list[str], identity: dict, chunk_size: int):
        self.folder = Path(folder)
        h = hashlib.sha256("\n".join(ids).encode())
        h.update(json.dumps(identity, sort_keys=True).encode())
        h.update(str(chunk_size).encode())
        key = h.hexdigest()[:16]
        state = self.folder / "state.json"
        if self.folder.exists():
            try:
                old = json.loads(state.read_text()).get("key")
            except (OSError, ValueError):
                old = None
            if old != key:
                logger.info("%s holds chunks of another build; starting over", self.folder)
                shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"key": key, "docs": len(ids), "chunk_size": chunk_size,
                                     "chunks": math.ceil(len(ids) / chunk_size)}))
        done = sorted(self.folder.glob("chunk-*.npz"))
        if done:
            logger.info("resuming: %d finished chunks found in %s", len(done), self.folder)

    def _path(self, start: int) -> Path:
        return self.folder / f"chunk-{start:012d}.npz"

    def get(self, start: int) -> dict[str, np.ndarray] | None:
        """The arrays of the chunk starting at document ``start``, or None if not finished."""
        path = self._path(start)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                return {name: z[name] for name in z.files}
        except (ValueError, OSError, KeyError):
            return None  # a chunk cut short by a crash is simply encoded again

    def put(self, start: int, **arrays: np.ndarray) -> None:
        tmp = self.folder / f".tmp-{start}.npz"
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, self._path(start))
