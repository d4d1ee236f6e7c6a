"""Every registered retriever whose dependencies are installed passes the same contract."""

import numpy as np
import pytest

from xlir import load_index
from xlir.errors import IndexExistsError
from xlir.protocols import Retriever
from xlir.registry import RETRIEVERS
from xlir.types import Doc, Query

NAMES = RETRIEVERS.names()


@pytest.fixture(params=NAMES)
def retriever_name(request):
    if not RETRIEVERS.is_available(request.param):
        pytest.skip(f"{request.param}: optional dependencies not installed")
    return request.param


def test_index_search_save_load_same_results(retriever_name, tiny_docs, tmp_path):
    r = RETRIEVERS.create(retriever_name, lang="en")
    assert isinstance(r, Retriever)
    english = [d for d in tiny_docs if d.lang == "en"]
    r.index(english)
    queries = [Query("q1", "cats hunting mice", "en"), Query("q3", "river delta", "en")]
    run = r.search(queries, k=3)
    assert list(run["q1"])[0] == "en1" and list(run["q3"])[0] == "en3"
    assert all(len(v) <= 3 for v in run.values())
    scores = list(run["q1"].values())
    assert scores == sorted(scores, reverse=True)

    r.save(tmp_path / "idx")
    with pytest.raises(IndexExistsError):
        r.save(tmp_path / "idx")
    loaded = load_index(tmp_path / "idx")
    assert type(loaded) is type(r) and loaded.doc_count == len(english)
    assert _has_memmap(loaded)  # arrays are memory-mapped, not read into memory
    assert loaded.search(queries, k=3) == run
    assert loaded.docs["en2"].text == english[1].text

    # a loaded index can be saved again (e.g. copied) and still answers the same
    loaded.save(tmp_path / "copy")
    assert load_index(tmp_path / "copy").search(queries, k=3) == run


def _has_memmap(obj, depth=0):
    if isinstance(obj, np.memmap):
        return True
    if depth > 2 or not hasattr(obj, "__dict__"):
        return False
    return any(_has_memmap(v, depth + 1) for v in vars(obj).values())


# -- segments: append, upsert, compact (xlir.segments) ------------------------------------
# Every retriever either supports segments with results equal to one index over the same
# documents, or refuses with SegmentsUnsupportedError saying why.

# splade quantizes each segment with its own scale; float32 impacts make scores comparable exactly
SEGMENT_PARAMS = {"splade": {"quantization": "float32"}}
SEGMENT_QUERIES = [Query("q1", "cats hunting mice", "en"), Query("q2", "loyal dogs and wolves", "en"),
                   Query("q3", "river delta", "en"), Query("q9", "volcano lava eruption", "en")]
VOLCANO = Doc("en2", "Volcanoes erupt molten lava and ash.", title="Volcanoes", lang="en")


def _built(name, docs):
    r = RETRIEVERS.create(name, lang="en", **SEGMENT_PARAMS.get(name, {}))
    r.index(docs)
    return r


def _same_run(got, want, name):
    assert list(got) == list(want)
    for qid in want:
        assert list(got[qid]) == list(want[qid]), qid
        if name == "bm25":  # global statistics make native BM25 bit-identical
            assert got[qid] == want[qid]
        else:
            np.testing.assert_allclose(list(got[qid].values()), list(want[qid].values()), rtol=1e-5, atol=1e-6)


def test_segments_append_searches_like_one_index(retriever_name, tiny_docs, tmp_path):
    from xlir.segments import SegmentedIndex, SegmentsUnsupportedError, append

    cls = RETRIEVERS.get(retriever_name)
    _built(retriever_name, tiny_docs[:5]).save(tmp_path / "idx")
    if not getattr(cls, "supports_segments", False):
        with pytest.raises(SegmentsUnsupportedError, match=rf"{retriever_name} indexes do not support segments .*: \w+"):
            append(tmp_path / "idx", tiny_docs[5:])
        assert load_index(tmp_path / "idx").doc_count == 5  # untouched
        return
    append(tmp_path / "idx", _built(retriever_name, tiny_docs[5:9]))
    append(tmp_path / "idx", tiny_docs[9:])  # documents, indexed with the index's own params
    index = load_index(tmp_path / "idx")
    assert isinstance(index, SegmentedIndex) and len(index.segments) == 3 and index.doc_count == len(tiny_docs)
    one = _built(retriever_name, tiny_docs)
    _same_run(index.search(SEGMENT_QUERIES, k=10), one.search(SEGMENT_QUERIES, k=10), retriever_name)
    assert index.docs["de4"].text == tiny_docs[11].text


def test_segments_duplicates_upsert_and_compact(retriever_name, tiny_docs, tmp_path):
    from xlir.segments import DuplicateIdError, append, compact

    if not getattr(RETRIEVERS.get(retriever_name), "supports_segments", False):
        pytest.skip(f"{retriever_name} does not support segments (its refusal is tested above)")
    path = tmp_path / "idx"
    _built(retriever_name, tiny_docs[:8]).save(path)
    with pytest.raises(DuplicateIdError, match="'en2'"):
        append(path, _built(retriever_name, [VOLCANO]))
    append(path, _built(retriever_name, [VOLCANO] + tiny_docs[8:]), upsert=True)
    index = load_index(path)
    assert index.doc_count == len(tiny_docs) and index.docs["en2"].text == VOLCANO.text
    run = index.search(SEGMENT_QUERIES, k=10)
    assert list(run["q9"])[0] == "en2" and list(run["q2"])[:1] != ["en2"]  # the dog text is gone
    live = [d for d in tiny_docs[:8] if d.id != "en2"] + [VOLCANO] + tiny_docs[8:]
    _same_run(run, _built(retriever_name, live).search(SEGMENT_QUERIES, k=10), retriever_name)
    compact(path)
    compacted = load_index(path)
    assert len(compacted.segments) == 1 and list(compacted.docs) == live  # ids, titles, texts, languages
    _same_run(compacted.search(SEGMENT_QUERIES, k=10), run, retriever_name)
