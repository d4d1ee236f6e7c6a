import json

import numpy as np
import pytest

from xlir import store
from xlir.errors import IndexExistsError, IndexFormatError
from xlir.retrievers.bm25 import BM25Retriever
from xlir.types import Doc


def _write_index(path, **kw):
    with store.atomic_index_dir(path, **kw) as tmp:
        files = {"a.npy": store.save_array(tmp, "a.npy", np.arange(5, dtype=np.int32))}
        store.write_manifest(tmp, retriever="bm25", params={}, doc_count=5, files=files)


def test_atomic_dir_writes_manifest_last_and_renames(tmp_path):
    _write_index(tmp_path / "idx")
    manifest = store.read_manifest(tmp_path / "idx")
    assert manifest["format"] == "xlir.index" and manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["files"]["a.npy"]["shape"] == [5]
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no temp folders left behind
    arr = store.load_array(tmp_path / "idx", "a.npy")
    assert isinstance(arr, np.memmap) and arr.tolist() == [0, 1, 2, 3, 4]


def test_failed_build_leaves_nothing_and_keeps_old_index(tmp_path):
    _write_index(tmp_path / "idx")
    before = (tmp_path / "idx" / "manifest.json").read_text()
    with pytest.raises(RuntimeError):
        with store.atomic_index_dir(tmp_path / "idx", overwrite=True) as tmp:
            (tmp / "partial.npy").write_bytes(b"x")
            raise RuntimeError("killed")
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]
    assert (tmp_path / "idx" / "manifest.json").read_text() == before


def test_overwrite_refused_unless_asked(tmp_path):
    _write_index(tmp_path / "idx")
    with pytest.raises(IndexExistsError, match="--overwrite"):
        _write_index(tmp_path / "idx")
    _write_index(tmp_path / "idx", overwrite=True)
    assert store.read_manifest(tmp_path / "idx")["doc_count"] == 5


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda p: (p / "manifest.json").unlink(), "manifest.json is missing"),
        (lambda p: (p / "manifest.json").write_text("{not json"), "corrupt manifest"),
        (lambda p: (p / "manifest.json").write_text("[1, 2]"), "corrupt manifest"),
        (lambda p: _edit(p, format="other"), "not an xlir index"),
        (lambda p: _edit(p, format_version=99), "newer than this xlir supports"),
        (lambda p: _edit(p, doc_count=None, drop="doc_count"), "missing doc_count"),
        (lambda p: (p / "a.npy").unlink(), "a.npy listed in the manifest is missing"),
        (lambda p: (p / "a.npy").write_bytes(b"truncated"), "a.npy has 9 bytes"),
    ],
)
def test_corrupt_index_is_a_clear_error(tmp_path, mutate, message):
    _write_index(tmp_path / "idx")
    mutate(tmp_path / "idx")
    with pytest.raises(IndexFormatError, match=message):
        store.load_index(tmp_path / "idx")


def _edit(path, drop=None, **changes):
    m = json.loads((path / "manifest.json").read_text())
    m.update(changes)
    if drop:
        del m[drop]
    (path / "manifest.json").write_text(json.dumps(m))


def test_missing_and_non_folder_paths(tmp_path):
    with pytest.raises(IndexFormatError, match="does not exist"):
        store.load_index(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(IndexFormatError, match="expected a folder"):
        store.load_index(tmp_path / "file")


def test_load_index_dispatches_on_manifest(tmp_path):
    r = BM25Retriever(lang="en")
    r.index([Doc("a", "red apples"), Doc("b", "green pears")])
    r.save(tmp_path / "idx")
    loaded = store.load_index(tmp_path / "idx")
    assert type(loaded) is BM25Retriever
    assert loaded.docs["b"].text == "green pears"
    assert store.read_manifest(tmp_path / "idx")["analyzer"]["lang"] == "en"


def test_loading_index_with_wrong_retriever_class_fails(tmp_path):
    _write_index(tmp_path / "idx")
    _edit(tmp_path / "idx", retriever="bm25")
    from xlir.retrievers.base import IndexedRetriever

    class Other(IndexedRetriever):
        name = "other"

    with pytest.raises(IndexFormatError, match="built by 'bm25'"):
        Other.load(tmp_path / "idx")
