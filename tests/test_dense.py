"""Dense retriever logic with a deterministic fake encoder (the model is beside the point here)."""

import dataclasses
import hashlib

import numpy as np
import pytest

pytest.importorskip("faiss")

from xlir import load_index
from xlir.retrievers.dense import DenseRetriever, EncoderMismatchError, exact_search
from xlir.types import Doc, Query


class HashingEncoder:
    """Bag of hashed words -> normalized vector; identical words give identical directions."""

    name = "hashing"

    def __init__(self, dim=64, salt="", prompt=""):
        self.dim, self.salt, self.prompt = dim, salt, prompt
        self.calls = 0

    def identity(self):
        return {"encoder": "hashing", "model": f"hash{self.dim}{self.salt}", "revision": None,
                "prompts": {"query": self.prompt, "doc": ""}, "dim": self.dim, "normalize": True}

    def _enc(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                h = int(hashlib.md5((self.salt + w).encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    encode_docs = encode_queries = _enc


def docs(n=50):
    return [Doc(f"d{i}", f"topic{i} word{i % 7} shared") for i in range(n)]


def test_exact_search_and_roundtrip(tmp_path):
    r = DenseRetriever(encoder=HashingEncoder(), lang="en")
    r.index(docs())
    run = r.search([Query("q", "topic3 word3")], k=5)
    assert list(run["q"])[0] == "d3"
    r.save(tmp_path / "idx")
    loaded = load_index(tmp_path / "idx")
    assert isinstance(loaded.vectors, np.memmap) and loaded.vectors.dtype == np.float16
    loaded._encoder = HashingEncoder()
    assert loaded.search([Query("q", "topic3 word3")], k=5) == run
    m = loaded.manifest
    assert m["encoder"]["model"] == "hash64" and m["vectors"]["shape"] == [50, 64]


def test_encoder_mismatch_is_an_error(tmp_path):
    r = DenseRetriever(encoder=HashingEncoder())
    r.index(docs(10))
    r.save(tmp_path / "idx")
    other = DenseRetriever.load(tmp_path / "idx", encoder=HashingEncoder(salt="x"))
    with pytest.raises(EncoderMismatchError, match="model: index 'hash64', now 'hash64x'"):
        other.search([Query("q", "topic1")])
    prompted = DenseRetriever.load(tmp_path / "idx", encoder=HashingEncoder(prompt="query: "))
    with pytest.raises(EncoderMismatchError, match="prompts"):
        prompted.search([Query("q", "topic1")])


def test_exact_search_blocks_agree_with_full_sort(monkeypatch):
    import xlir.retrievers.dense as dense

    rng = np.random.default_rng(0)
    v = rng.normal(size=(1000, 16)).astype(np.float16)
    q = rng.normal(size=(5, 16)).astype(np.float32)
    monkeypatch.setattr(dense, "_EXACT_BLOCK", 128)
    s, r = exact_search(v, q, 10)
    full = q @ v.astype(np.float32).T
    expected = np.argsort(-full, axis=1, kind="stable")[:, :10]
    assert np.array_equal(r, expected)
    assert np.allclose(s, np.take_along_axis(full, expected, axis=1), atol=1e-5)


@pytest.mark.parametrize("kind, extra", [("hnsw", {}), ("ivfpq", {"ivf_nlist": 8, "pq_m": 8, "nprobe": 8})])
def test_ann_indexes_find_what_exact_finds(tmp_path, kind, extra):
    rng = np.random.default_rng(1)
    n, dim = 2000, 32
    centers = rng.normal(size=(40, dim))
    cluster = rng.integers(0, 40, n)
    vecs = centers[cluster] + 0.05 * rng.normal(size=(n, dim))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)

    class Fixed(HashingEncoder):
        def encode_docs(self, texts):
            return vecs[[int(t[1:]) for t in texts]].astype(np.float32)

    enc = Fixed(dim=dim)
    ann = DenseRetriever(encoder=enc, index=kind, **extra)
    ann.index([Doc(f"d{i}", f"v{i}") for i in range(n)])
    q = vecs[:50].astype(np.float32)
    _, exact_rows = exact_search(ann.vectors, q, 10)
    _, ann_rows = ann.search_vectors(q, 10)
    same_cluster = np.mean(cluster[ann_rows] == cluster[:50, None])
    assert same_cluster >= 0.95  # neighbours come from the query's own cluster
    def recall(rows):
        return np.mean([len(set(a) & set(e)) / 10 for a, e in zip(rows, exact_rows)])

    if kind == "hnsw":  # HNSW stores exact vectors, so it must agree with exact search
        assert recall(ann_rows) >= 0.95
    else:  # PQ candidates are rescored exactly with the stored vectors: more candidates, more recall
        by_refine = {}
        for refine in (1, 4, 10):  # 10 x 10 candidates cover each query's whole cluster (~50)
            ann.params = dataclasses.replace(ann.params, refine=refine)
            scores, rows = ann.search_vectors(q, 10)
            by_refine[refine] = recall(rows)
            if refine > 1:  # rescored: exact inner products, in descending order
                exact_scores = np.einsum("qd,qkd->qk", q, ann.vectors[rows].astype(np.float32))
                assert np.allclose(scores, exact_scores, atol=1e-5)
                assert np.all(np.diff(scores, axis=1) <= 0)
        assert by_refine[1] < by_refine[4] <= by_refine[10] and by_refine[10] >= 0.95
        ann.params = dataclasses.replace(ann.params, refine=4)
    ann.save(tmp_path / "idx")
    files = load_index(tmp_path / "idx").manifest["files"]
    name = ann.ann_name()
    assert name in files and files[name]["derived"]
    # the derived structure is rebuilt from the vectors when missing
    (tmp_path / "idx" / name).unlink()
    reloaded = load_index(tmp_path / "idx")
    reloaded._encoder = enc
    _, rows = reloaded.search_vectors(q, 10)
    assert np.mean(cluster[rows] == cluster[:50, None]) >= 0.95


def test_interrupted_indexing_resumes_from_finished_chunks(tmp_path):
    class Flaky(HashingEncoder):
        fail_at = 3

        def encode_docs(self, texts):
            if self.calls + 1 == self.fail_at:
                self.calls += 1
                raise KeyboardInterrupt  # simulated kill during the third chunk
            return self._enc(texts)

    work = tmp_path / "work"
    enc = Flaky()
    r = DenseRetriever(encoder=enc, chunk_size=10)
    with pytest.raises(KeyboardInterrupt):
        r.index(docs(50), work_dir=work)
    assert len(list(work.glob("chunk-*.npz"))) == 2
    enc2 = HashingEncoder()
    r2 = DenseRetriever(encoder=enc2, chunk_size=10)
    r2.index(docs(50), work_dir=work)
    assert enc2.calls == 3  # only the three unfinished chunks were encoded
    fresh = DenseRetriever(encoder=HashingEncoder(), chunk_size=10)
    fresh.index(docs(50))
    assert np.array_equal(r2.vectors, fresh.vectors)
    # a different corpus does not reuse the chunks
    enc3 = HashingEncoder()
    DenseRetriever(encoder=enc3, chunk_size=10).index(docs(30), work_dir=work)
    assert enc3.calls == 3


def test_encoder_name_is_a_parameter_not_an_object():
    r = DenseRetriever(encoder="use-multilingual")
    assert r.params.encoder == "use-multilingual" and r._encoder is None


def test_batch_size_zero_means_the_encoders_own_default():
    from xlir.errors import ParamError
    from xlir.retrievers.dense import DenseParams, _make_encoder

    assert _make_encoder(DenseParams(encoder="ct2")).batch_size == 16  # ctranslate2 is faster with small batches
    assert _make_encoder(DenseParams(encoder="sentence-transformers")).batch_size == 32
    assert _make_encoder(DenseParams(encoder="use-multilingual")).batch_size == 64
    assert _make_encoder(DenseParams(encoder="ct2", batch_size=8)).batch_size == 8
    with pytest.raises(ParamError, match="single model"):
        _make_encoder(DenseParams(encoder="use-multilingual", model="some/other-model"))
    with pytest.raises(ParamError, match="batch_size"):
        DenseParams(batch_size=-1).validate()
