"""Index store: a folder of plain ``.npy`` arrays and text files plus ``manifest.json``.

The manifest is written last, the folder is built under a temporary name next to its
destination and renamed into place, so a crash never leaves a half-written index that
looks valid. Arrays load memory-mapped; nothing is pickled.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from xlir.errors import IndexExistsError, IndexFormatError, InputError

logger = logging.getLogger(__name__)

FORMAT = "xlir.index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_REQUIRED = ("format", "format_version", "retriever", "params", "doc_count", "files")


@contextlib.contextmanager
def atomic_index_dir(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path`` atomically.

    Raises :class:`IndexExistsError` if ``path`` exists and ``overwrite`` is false. On an
    exception the temporary folder is removed and an existing ``path`` is left untouched.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise IndexExistsError(f"{path} already exists; pass --overwrite (overwrite=True) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            if not overwrite:
                raise IndexExistsError(f"{path} appeared while the index was being built")
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_array(folder: Path, name: str, array: np.ndarray) -> dict[str, Any]:
    """Write ``array`` as ``folder/name`` (.npy, little-endian); returns its manifest entry."""
    array = np.ascontiguousarray(array)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    np.save(folder / name, array, allow_pickle=False)
    return {
        "kind": "array",
        "dtype": array.dtype.str,
        "shape": list(array.shape),
        "bytes": (folder / name).stat().st_size,
    }


def save_lines(folder: Path, name: str, lines: Iterable[str]) -> dict[str, Any]:
    """Write one item per line (UTF-8); items must not contain line breaks."""
    count = 0
    with open(folder / name, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            if "\n" in line or "\r" in line:
                raise InputError(f"value {line!r} contains a line break and cannot be stored")
            f.write(line)
            f.write("\n")
            count += 1
    return {"kind": "lines", "count": count, "bytes": (folder / name).stat().st_size}


def save_json(folder: Path, name: str, obj: Any) -> dict[str, Any]:
    with open(folder / name, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
    return {"kind": "json", "bytes": (folder / name).stat().st_size}


def write_manifest(
    folder: Path,
    *,
    retriever: str,
    params: dict[str, Any],
    doc_count: int,
    files: dict[str, dict[str, Any]],
    languages: Sequence[str] = (),
    **extra: Any,
) -> dict[str, Any]:
    """Write ``manifest.json`` (call this last). Returns the manifest dict."""
    from xlir import __version__

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "retriever": retriever,
        "params": params,
        "doc_count": int(doc_count),
        "languages": sorted(set(languages)),
        "xlir_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "files": files,
        **extra,
    }
    tmp = folder / (MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / MANIFEST)
    return manifest


def read_manifest(path: str | os.PathLike, *, check_files: bool = True) -> dict[str, Any]:
    """Read and validate an index manifest.

    Raises :class:`IndexFormatError` when ``path`` is missing, is not an xlir index, has a
    corrupt manifest, a newer ``format_version``, or missing/truncated files.
    """
    path = Path(path)
    if not path.exists():
        raise IndexFormatError(f"{path}: no such index (the folder does not exist)")
    if not path.is_dir():
        raise IndexFormatError(f"{path}: not an xlir index (expected a folder with {MANIFEST})")
    mpath = path / MANIFEST
    if not mpath.exists():
        raise IndexFormatError(
            f"{path}: not an xlir index ({MANIFEST} is missing; an interrupted build leaves no manifest)"
        )
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise IndexFormatError(f"{mpath}: corrupt manifest ({e})") from None
    if not isinstance(manifest, dict):
        raise IndexFormatError(f"{mpath}: corrupt manifest (expected a JSON object)")
    if manifest.get("format") != FORMAT:
        raise IndexFormatError(f"{mpath}: not an xlir index (format is {manifest.get('format')!r}, expected {FORMAT!r})")
    missing = [k for k in _REQUIRED if k not in manifest]
    if missing:
        raise IndexFormatError(f"{mpath}: corrupt manifest (missing {', '.join(missing)})")
    version = manifest["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise IndexFormatError(
            f"{mpath}: format_version {version!r} is newer than this xlir supports ({FORMAT_VERSION}); upgrade xlir"
        )
    if check_files:
        for name, entry in manifest["files"].items():
            fp = path / name
            if isinstance(entry, dict) and entry.get("derived") and not fp.exists():
                continue  # derived structures (ANN graphs) are rebuilt from the stored arrays
            if not fp.exists():
                raise IndexFormatError(f"{path}: corrupt index, file {name} listed in the manifest is missing")
            expected = entry.get("bytes") if isinstance(entry, dict) else None
            if expected is not None and fp.stat().st_size != expected:
                raise IndexFormatError(
                    f"{path}: corrupt index, {name} has {fp.stat().st_size} bytes, manifest says {expected}"
                )
    return manifest


def load_array(folder: Path, name: str, *, mmap: bool = True) -> np.ndarray:
    """Load a ``.npy`` array, memory-mapped read-only when ``mmap``."""
    try:
        return np.load(folder / name, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise IndexFormatError(f"{folder}: corrupt index, cannot read {name} ({e})") from None


def load_lines(folder: Path, name: str) -> list[str]:
    with open(folder / name, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


def load_json(folder: Path, name: str) -> Any:
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError) as e:
        raise IndexFormatError(f"{folder}: corrupt index, cannot read {name} ({e})") from None


def load_index(path: str | os.PathLike, *, mmap: bool = True):
    """Load any xlir index, dispatching on the manifest's ``retriever``; a segmented index
    (``"segmented": true``) loads as one :class:`xlir.segments.SegmentedIndex`."""
    from xlir.registry import RETRIEVERS

    manifest = read_manifest(path)
    if manifest.get("segmented"):
        from xlir.segments import SegmentedIndex

        return SegmentedIndex.load(Path(path), mmap=mmap)
    cls = RETRIEVERS.get(manifest["retriever"])
    loaded = cls.load(Path(path), mmap=mmap)
    if manifest.get("passages"):  # documents split into passages: search answers with document ids
        from xlir.passages import PassageRetriever

        return PassageRetriever.from_manifest(loaded, manifest["passages"])
    return loaded
