"""Late interaction: token encoder (three checkpoint layouts), PLAID codec and search, retriever, MaxSim reranker."""

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("numba")

from xlir import load_index  # noqa: E402
from xlir.errors import ParamError  # noqa: E402
from xlir.plaid import (  # noqa: E402
    PlaidIndex,
    ResidualCodec,
    build_ivf,
    exact_maxsim_all,
    iter_parts,
    maxsim,
    top_k,
    train_centroids,
)
from xlir.types import Doc, Query  # noqa: E402


def clustered(ndocs=300, dim=32, vocab=400, seed=0):
    """Documents of 10-40 tokens drawn from a vocabulary of 'term' vectors plus noise."""
    rng = np.random.default_rng(seed)
    terms = rng.standard_normal((vocab, dim)).astype(np.float32)
    terms /= np.linalg.norm(terms, axis=1, keepdims=True)
    lens = rng.integers(10, 41, ndocs).astype(np.int32)
    tok = rng.integers(0, vocab, int(lens.sum()))
    vec = terms[tok] + rng.standard_normal((len(tok), dim)).astype(np.float32) * (0.4 / np.sqrt(dim))
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    return terms, tok, vec.astype(np.float32), lens, rng


# -- codec ----------------------------------------------------------------------------------
@pytest.mark.parametrize("nbits", [1, 2, 4])
def test_codec_round_trip_error_bounds(nbits):
    _, _, vec, _, _ = clustered()
    centroids = train_centroids(vec, 64, niter=6)
    assert np.allclose(np.linalg.norm(centroids, axis=1), 1, atol=1e-5)
    codec = ResidualCodec.train(centroids, vec, nbits)
    codes, packed, norms = codec.compress(vec)
    assert packed.dtype == np.uint8 and packed.shape == (len(vec), 32 * nbits // 8)
    # codes are the nearest centroids
    assert np.array_equal(codes, (vec @ centroids.T).argmax(1))
    resid = vec - centroids[codes]
    # gain-shape: the norm travels as float16, the buckets code the unit residual
    assert norms.dtype == np.float16 and np.allclose(norms, np.linalg.norm(resid, axis=1), rtol=1e-3)
    resid = resid / np.linalg.norm(resid, axis=1, keepdims=True)
    buckets = codec._lut[packed].reshape(len(vec), 32)
    # each residual falls in its bucket: (cutoff[b-1], cutoff[b]]
    lo = np.concatenate([np.full((32, 1), -np.inf), codec.cutoffs], axis=1)
    hi = np.concatenate([codec.cutoffs, np.full((32, 1), np.inf)], axis=1)
    d = np.arange(32)
    assert np.all(lo[d, buckets] < resid) and np.all(resid <= hi[d, buckets])
    # the decompressed residual lies within its bucket's width of the true one (ends: sample min/max)
    lo_f = np.where(np.isinf(lo), resid.min(0)[:, None], lo)
    hi_f = np.where(np.isinf(hi), resid.max(0)[:, None], hi)
    value = codec.weights[d, buckets]
    assert np.all(np.abs(resid - value) <= (hi_f - lo_f)[d, buckets] + 1e-6)
    # and the decompressed vector points almost where the original does
    out = codec.decompress(codes, packed, norms)
    cos = (out * vec).sum(1)
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    assert cos.mean() > {1: 0.85, 2: 0.95, 4: 0.993}[nbits]  # measured: 0.861, 0.958, 0.996
    centroid_only = (centroids[codes] * vec).sum(1).mean()
    assert cos.mean() > centroid_only  # residuals add information


def test_lloyd_max_buckets_and_gain_shape_beat_quantile_medians():
    _, _, vec, _, _ = clustered()
    centroids = train_centroids(vec, 64)
    codec = ResidualCodec.train(centroids, vec, 2, gain=False, lloyd_iters=30)
    resid = vec - centroids[codec.assign(vec)]
    buckets = codec._lut[codec.compress(vec)[1]].reshape(len(vec), 32)
    for d in range(32):  # Lloyd-Max fixed point: values are bucket means, cutoffs sit midway
        for b in range(4):
            assert np.isclose(codec.weights[d, b], resid[buckets[:, d] == b, d].mean(), atol=2e-3)
        assert np.allclose(codec.cutoffs[d], (codec.weights[d, 1:] + codec.weights[d, :-1]) / 2, atol=1e-6)

    def cos(c):
        return float((c.decompress(*c.compress(vec)) * vec).sum(1).mean())

    plain = cos(ResidualCodec.train(centroids, vec, 2, gain=False, lloyd_iters=0))  # ColBERTv2's codec
    assert codec.compress(vec)[2] is None
    assert plain < cos(codec) < cos(ResidualCodec.train(centroids, vec, 2))  # measured 0.941 < 0.954 < 0.958


def test_codec_more_bits_is_more_accurate_and_bad_bits_refused():
    _, _, vec, _, _ = clustered()
    centroids = train_centroids(vec, 64)
    errors = []
    for nbits in (1, 2, 4):
        codec = ResidualCodec.train(centroids, vec, nbits)
        errors.append(float(np.abs(codec.decompress(*codec.compress(vec)) - vec).mean()))
    with pytest.raises(ParamError, match="norms"):
        codec.decompress(*codec.compress(vec)[:2])
    assert errors[0] > errors[1] > errors[2]
    with pytest.raises(ParamError):
        ResidualCodec.train(centroids, vec, 3)
    with pytest.raises(ParamError):
        PlaidIndex.build([(vec, np.array([len(vec)]))], nbits=8)


@pytest.mark.parametrize("nbits", [1, 2, 4])
def test_pq_codec_codes_each_byte_as_its_nearest_codeword_and_beats_lloyd_max(nbits):
    _, _, vec, _, _ = clustered()
    centroids = train_centroids(vec, 64)
    codec = ResidualCodec.train(centroids, vec, nbits, pq=True)
    per = 8 // nbits
    assert codec.codebooks.shape == (32 // per, 256, per)
    # codewords are stored as float16: the codec encodes and decodes with the rounded values
    assert np.array_equal(codec.codebooks, codec.codebooks.astype(np.float16).astype(np.float32))
    codes, packed, norms = codec.compress(vec)
    assert np.array_equal(codes, (vec @ centroids.T).argmax(1)) and packed.shape == (len(vec), 32 // per)
    resid = vec - centroids[codes]
    assert np.allclose(norms, np.linalg.norm(resid, axis=1), rtol=1e-3)
    unit = (resid / np.linalg.norm(resid, axis=1, keepdims=True)).reshape(len(vec), -1, per)
    # each byte names the nearest codeword of its group of dimensions (ties aside)
    dist = ((unit[:, :, None, :] - codec.codebooks[None]) ** 2).sum(-1)  # (tokens, bytes, 256)
    chosen = np.take_along_axis(dist, packed[:, :, None].astype(np.int64), axis=2)[..., 0]
    assert np.all(chosen <= dist.min(-1) + 1e-5)
    # decompression: centroid + norm * unit(concatenated codewords), L2-normalized
    words = codec.codebooks[np.arange(32 // per)[None, :], packed].reshape(len(vec), 32)
    want = centroids[codes] + norms[:, None].astype(np.float32) * words / np.linalg.norm(words, axis=1, keepdims=True)
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    out = codec.decompress(codes, packed, norms)
    assert np.allclose(out, want, atol=1e-5)
    # same bits per dimension, but joint codewords reconstruct better than per-dimension buckets
    lloyd = ResidualCodec.train(centroids, vec, nbits)
    err_pq = np.linalg.norm(out - vec, axis=1).mean()
    err_lloyd = np.linalg.norm(lloyd.decompress(*lloyd.compress(vec)) - vec, axis=1).mean()
    assert err_pq < err_lloyd, (err_pq, err_lloyd)


def test_pq_codec_refuses_what_it_cannot_do():
    _, _, vec, _, _ = clustered()
    centroids = train_centroids(vec, 64)
    with pytest.raises(ParamError, match="gain-shape"):
        ResidualCodec.train(centroids, vec, 2, pq=True, gain=False)
    with pytest.raises(ParamError, match="256"):
        ResidualCodec.train(centroids, vec[:100], 2, pq=True)
    with pytest.raises(ParamError, match="do not fit"):
        ResidualCodec(centroids, 2, np.zeros((32, 0)), np.zeros((32, 1)), codebooks=np.zeros((8, 256, 2)))
    with pytest.raises(ParamError, match="residual_codec"):
        PlaidIndex.build([(vec, np.array([len(vec)]))], residual_codec="opq")


# -- index and search -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_index():
    terms, tok, vec, lens, rng = clustered()
    index = PlaidIndex.build(list(iter_parts(vec, lens, 64)), nbits=2, keep_vectors=True)
    return terms, tok, vec, lens, index


def test_ivf_lists_every_document_of_each_centroid(small_index):
    _, _, _, lens, index = small_index
    codes = np.asarray(index.codes)
    doc_of = np.repeat(np.arange(len(lens)), lens)
    for c in range(len(index.codec.centroids)):
        listed = index.ivf_pids[index.ivf_indptr[c] : index.ivf_indptr[c + 1]]
        assert listed.tolist() == sorted(set(doc_of[codes == c].tolist()))
    indptr, pids = build_ivf(np.array([2, 0, 2, 2]), np.array([1, 3]), 3)
    assert indptr.tolist() == [0, 1, 1, 3] and pids.tolist() == [1, 0, 1]


def test_centroid_kernel_matches_numpy(small_index):
    from xlir._plaid_kernels import centroid_maxsim

    _, _, _, lens, index = small_index
    rng = np.random.default_rng(1)
    q = rng.standard_normal((8, 32)).astype(np.float32)
    st = np.ascontiguousarray((q @ index.codec.centroids.T).T)
    pids = np.arange(len(lens), dtype=np.int64)
    got = centroid_maxsim(st, np.ones(len(st), np.bool_), np.asarray(index.codes), index.offsets, pids)
    want = maxsim(q, index.codec.centroids[np.asarray(index.codes)], lens)
    assert np.allclose(got, want, atol=1e-4)
    # pruned centroids are skipped; a query token reaching no kept centroid adds 0
    keep = np.zeros(len(st), np.bool_)
    keep[index.codes[0]] = True
    pruned = centroid_maxsim(st, keep, np.asarray(index.codes), index.offsets, pids[:1])
    assert np.isclose(pruned[0], st[index.codes[0]].sum(), atol=1e-5)


def test_search_probing_everything_equals_brute_force_on_decompressed(small_index):
    _, _, _, lens, index = small_index
    decompressed = index.decompress()
    rng = np.random.default_rng(2)
    for _ in range(5):
        q = rng.standard_normal((12, 32)).astype(np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        s, r = index.search(q, 20, ncells=len(index.codec.centroids), ndocs=4 * len(lens), centroid_score_threshold=-9)
        bs, br = top_k(maxsim(q, decompressed, lens), np.arange(len(lens)), 20)
        assert r.tolist() == br.tolist() and np.allclose(s, bs, atol=1e-4)


def test_small_collection_search_spends_the_ndocs_budget(small_index):
    # PLAID's k=10 setting probes 1 cell per query token; with fewer candidates than ndocs
    # xlir probes more cells, so on 300 documents and ndocs=1200 (exact stage: ndocs / 4 = 300)
    # the search is exhaustive
    _, _, _, lens, index = small_index
    decompressed = index.decompress()
    rng = np.random.default_rng(4)
    q = rng.standard_normal((12, 32)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    s, r = index.search(q, 10, ndocs=4 * len(lens))
    one_cell = np.unique(((q @ index.codec.centroids.T).argmax(1)))
    reached = {int(p) for c in one_cell for p in index.ivf_pids[index.ivf_indptr[c] : index.ivf_indptr[c + 1]]}
    assert len(reached) < len(lens)  # PLAID's one cell per query token misses documents
    bs, br = top_k(maxsim(q, decompressed, lens), np.arange(len(lens)), 10)
    assert r.tolist() == br.tolist() and np.allclose(s, bs, atol=1e-4)


def test_centroid_count_follows_plaid_then_the_size_cap():
    from xlir.plaid import num_centroids

    assert num_centroids(1_000_000) == 8192 and num_centroids(1_000_000, 4096) == 4096
    assert num_centroids(1_000_000, nbits=2) == 8192  # PLAID's count is under tokens * nbits / 64 here
    assert num_centroids(44_622, nbits=2) == 1394 and num_centroids(44_622) == 2048  # a 240-paragraph corpus
    assert num_centroids(10, nbits=1) == 1
    # product-quantized residuals: the codebooks (as many bytes as 256 centroids) come out of the same budget
    assert num_centroids(44_622, nbits=2, reserve=256) == 1394 - 256


def test_auto_residual_codec_and_pq_index_round_trip(tmp_path):
    from xlir.plaid import num_centroids

    _, _, vec, lens, _ = clustered(ndocs=800, vocab=1000, seed=7)  # ~20,000 tokens: enough to product-quantize
    assert len(vec) >= 16_384
    index = PlaidIndex.build(list(iter_parts(vec, lens, 256)), nbits=2)
    assert index.residual_codec == "pq" and len(index.codec.centroids) == num_centroids(len(vec), nbits=2, reserve=256)
    small = PlaidIndex.build(list(iter_parts(vec[: lens[:300].sum()], lens[:300], 64)), nbits=2)
    assert small.residual_codec == "lloyd"  # too few tokens to pay for 256 codewords per byte
    lloyd = PlaidIndex.build(list(iter_parts(vec, lens, 256)), nbits=2, residual_codec="lloyd")
    assert lloyd.residual_codec == "lloyd" and index.nbytes() <= lloyd.nbytes() * 1.01  # 256 fewer centroids pay
    # with the same centroids, codewords reconstruct better than per-dimension buckets
    k = len(index.codec.centroids)
    same = PlaidIndex.build(list(iter_parts(vec, lens, 256)), nbits=2, residual_codec="lloyd", ncentroids=k)
    err = [np.linalg.norm(i.decompress() - vec, axis=1).mean() for i in (index, same)]
    assert err[0] < err[1], err
    files = index.save(tmp_path)
    assert "residual_codebooks.npy" in files and "bucket_cutoffs.npy" not in files
    loaded = PlaidIndex.load(tmp_path, files, 2)
    assert loaded.residual_codec == "pq" and np.array_equal(loaded.decompress(), index.decompress())
    q = vec[:20] + 0.01
    assert [r.tolist() for r in loaded.search(q, 10)] == [r.tolist() for r in index.search(q, 10)]
    from xlir.errors import IndexFormatError

    np.save(tmp_path / "residual_codebooks.npy", np.zeros((4, 256, 4), np.float16))
    with pytest.raises(IndexFormatError, match="do not fit"):
        PlaidIndex.load(tmp_path, files, 2)
    del files["residual_codebooks.npy"]
    with pytest.raises(IndexFormatError, match="bucket_cutoffs"):
        PlaidIndex.load(tmp_path, files, 2)


@pytest.fixture(scope="module")
def larger_index():
    """3,000 documents: more than PLAID's ndocs for k=10 (256), so candidates are pruned."""
    terms, tok, vec, lens, rng = clustered(ndocs=3000, vocab=2000, seed=5)
    index = PlaidIndex.build(list(iter_parts(vec, lens, 512)), nbits=2, keep_vectors=True)
    return terms, tok, vec, lens, index


def test_candidate_generation_recall_against_exact_maxsim(larger_index):
    terms, tok, vec, lens, index = larger_index
    rng = np.random.default_rng(3)
    offsets = np.concatenate([[0], np.cumsum(lens)])
    decompressed = index.decompress()
    recall, recall_cand, top1 = [], [], []
    for _ in range(30):
        d = int(rng.integers(len(lens)))
        t = tok[offsets[d] : offsets[d + 1]][rng.integers(0, lens[d], 16)]
        q = terms[t] + rng.standard_normal((16, 32)).astype(np.float32) * 0.05
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        _, r = index.search(q, 10)  # PLAID's settings for k=10: 1 cell per query token, ndocs 256
        _, er = index.search_exact(q, 10)
        _, er2 = top_k(exact_maxsim_all(q, vec, lens), np.arange(len(lens)), 10)
        assert er.tolist() == er2.tolist()  # float16 stored vectors rank like float32
        _, dr = top_k(maxsim(q, decompressed, lens), np.arange(len(lens)), 10)
        recall.append(len(set(r.tolist()) & set(er.tolist())) / 10)
        recall_cand.append(len(set(r.tolist()) & set(dr.tolist())) / 10)
        top1.append(r[0] == er[0])
    # candidate generation + centroid pruning lose little against brute force on the same
    # (decompressed) vectors; 2-bit residuals at 32 dimensions cost a little more against exact
    assert np.mean(recall_cand) >= 0.95, np.mean(recall_cand)
    assert np.mean(recall) >= 0.85 and np.mean(top1) >= 0.95, (np.mean(recall), np.mean(top1))


def test_index_is_much_smaller_than_float16(small_index):
    _, _, vec, _, index = small_index
    # 32 dims at 2 bits = 8 bytes + a 2-byte code vs 64 bytes of float16 (+ IVF, centroids on tiny data)
    assert index.residuals.shape[1] == 8 and index.codes.dtype == np.uint16
    per_token = (index.residuals.nbytes + index.codes.nbytes + index.norms.nbytes + index.ivf_pids.nbytes) / len(vec)
    assert index.norms.dtype == np.float16 and per_token <= 16


# -- tiny checkpoints in the Stanford ColBERT and PyLate layouts ----------------------------
VOCAB = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", ".", "!", "cats", "dogs",
         "hunt", "mice", "river", "delta", "the", "a", "sea", "wolves"]


def _tiny_bert(folder):
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    tok = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    return tok, BertModel(config).eval(), config


@pytest.fixture(scope="module")
def stanford_ckpt(tmp_path_factory):
    import torch
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("stanford")
    tok, model, config = _tiny_bert(folder)
    tok.save_pretrained(folder)
    config.architectures = ["HF_ColBERT"]
    config.save_pretrained(folder)
    linear = torch.randn(16, 32)
    state = {f"bert.{k}": v.contiguous() for k, v in model.state_dict().items()}
    state["linear.weight"] = linear
    save_file(state, str(folder / "model.safetensors"))
    (folder / "artifact.metadata").write_text(json.dumps({
        "dim": 16, "query_token_id": "[unused0]", "doc_token_id": "[unused1]", "query_maxlen": 12,
        "doc_maxlen": 40, "mask_punctuation": True, "attend_to_mask_tokens": False, "similarity": "cosine"}))
    return folder, model, linear


@pytest.fixture(scope="module")
def pylate_ckpt(tmp_path_factory):
    import torch
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("pylate")
    tok, model, _ = _tiny_bert(folder)
    tok.save_pretrained(folder)
    model.save_pretrained(folder)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Dense", "type": "pylate.models.Dense.Dense"}]))
    (folder / "1_Dense").mkdir()
    (folder / "1_Dense" / "config.json").write_text(json.dumps(
        {"in_features": 32, "out_features": 8, "bias": False,
         "activation_function": "torch.nn.modules.linear.Identity"}))
    linear = torch.randn(8, 32)
    save_file({"linear.weight": linear}, str(folder / "1_Dense" / "model.safetensors"))
    (folder / "config_sentence_transformers.json").write_text(json.dumps(
        {"query_prefix": "[unused0]", "document_prefix": "[unused1]", "query_length": 10, "document_length": 30,
         "attend_to_expansion_tokens": False, "do_query_expansion": True}))
    return folder, model, linear


def _manual(model, linear, ids):
    import torch

    with torch.inference_mode():
        h = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
        x = h.last_hidden_state[0] @ linear.T
    return torch.nn.functional.normalize(x, dim=-1).numpy()


def test_stanford_checkpoint_loads_with_projection_and_markers(stanford_ckpt):
    from xlir.encoders.colbert import ColBERTEncoder, detect_layout

    folder, model, linear = stanford_ckpt
    assert detect_layout(folder) == "stanford"
    enc = ColBERTEncoder(str(folder), device="cpu")
    ident = enc.identity()
    assert ident["layout"] == "stanford" and ident["dim"] == 16 and ident["query_maxlen"] == 12
    ids, att, keep = enc._batch(["cats hunt mice"], "query")
    assert enc._tok.convert_ids_to_tokens(ids[0].tolist()) == (
        ["[CLS]", "[unused0]", "cats", "hunt", "mice", "[SEP]"] + ["[MASK]"] * 6)
    assert att[0].tolist() == [1] * 6 + [0] * 6 and keep[0].all()  # masks are query vectors, not attended to
    q = enc.encode_queries(["cats hunt mice"])[0]
    assert q.shape == (12, 16)
    vec, lens = enc.encode_docs(["cats , hunt mice !", "the sea"])
    # [CLS] [unused1] cats hunt mice [SEP]: punctuation dropped, ColBERT's special tokens kept
    assert lens.tolist() == [6, 5] and vec.shape == (11, 16)
    tok = enc._tok
    full = tok.convert_tokens_to_ids(["[CLS]", "[unused1]", "cats", ",", "hunt", "mice", "!", "[SEP]"])
    want = _manual(model, linear, full)[[0, 1, 2, 4, 5, 7]]
    assert np.allclose(vec[:6], want, atol=1e-5)


def test_pylate_checkpoint_loads_with_dense_module(pylate_ckpt):
    from xlir.encoders.colbert import ColBERTEncoder, detect_layout

    folder, model, linear = pylate_ckpt
    assert detect_layout(folder) == "pylate"
    enc = ColBERTEncoder(str(folder), device="cpu")
    ident = enc.identity()
    assert ident["layout"] == "pylate" and ident["dim"] == 8 and ident["query_maxlen"] == 10
    assert ident["prompts"] == {"query": "[unused0]", "doc": "[unused1]"}
    q = enc.encode_queries(["dogs"])[0]
    assert q.shape == (10, 8)
    vec, lens = enc.encode_docs(["wolves ."])
    tok = enc._tok
    want = _manual(model, linear, tok.convert_tokens_to_ids(["[CLS]", "[unused1]", "wolves", ".", "[SEP]"]))
    assert lens.tolist() == [4] and np.allclose(vec, want[[0, 1, 2, 4]], atol=1e-5)


def test_pylate_dense_with_bias_is_refused(tmp_path, pylate_ckpt):
    import shutil

    from xlir.encoders.base import ModelLoadError
    from xlir.encoders.colbert import ColBERTEncoder

    folder = tmp_path / "bad"
    shutil.copytree(pylate_ckpt[0], folder)
    cfg = json.loads((folder / "1_Dense" / "config.json").read_text())
    (folder / "1_Dense" / "config.json").write_text(json.dumps({**cfg, "bias": True}))
    with pytest.raises(ModelLoadError, match="bias"):
        ColBERTEncoder(str(folder), device="cpu").identity()


def test_missing_model_offline_says_how(tmp_path):
    from xlir.encoders.base import ModelLoadError
    from xlir.encoders.colbert import ColBERTEncoder

    with pytest.raises(ModelLoadError, match="local-dir"):
        ColBERTEncoder("colbert-ir/no-such-model-xyz").identity()


# -- retriever (offline default: e5-small token vectors) ------------------------------------
@pytest.fixture(scope="module")
def e5_colbert(tiny_docs_module):
    from xlir.retrievers.colbert import ColBERTRetriever

    r = ColBERTRetriever(lang="en", keep_vectors=True)
    r.index([d for d in tiny_docs_module if d.lang == "en"])
    return r


@pytest.fixture(scope="module")
def tiny_docs_module():
    from pathlib import Path

    from xlir.io import read_corpus

    return list(read_corpus(Path(__file__).parent / "fixtures" / "tiny" / "docs.jsonl"))


QUERIES = [Query("q1", "cats hunting mice", "en"), Query("q2", "loyal dogs and wolves", "en"),
           Query("q3", "river delta", "en")]


def test_retriever_plaid_and_exact_agree_and_round_trip(e5_colbert, tmp_path, capsys):
    from xlir.cli.main import main

    run = e5_colbert.search(QUERIES, k=3)
    assert [list(run[q])[0] for q in ("q1", "q2", "q3")] == ["en1", "en2", "en3"]
    e5_colbert.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["plaid"]["nbits"] == 2 and manifest["encoder"]["layout"] == "plain"
    assert manifest["plaid"]["residual_codec"] == "lloyd"  # a few hundred tokens: too few for codebooks
    capsys.readouterr()
    assert main(["info", str(tmp_path / "idx")]) == 0
    assert '"residual_codec": "lloyd"' in next(l for l in capsys.readouterr().out.splitlines() if l.startswith("plaid:"))
    assert manifest["encoder"]["prompts"] == {"query": "query: ", "doc": "passage: "}
    loaded = load_index(tmp_path / "idx")
    assert isinstance(loaded.plaid.residuals, np.memmap)
    assert loaded.search(QUERIES, k=3) == run
    ex = type(e5_colbert).load(tmp_path / "idx", exact=True).search(QUERIES, k=3)
    assert [list(ex[q])[0] for q in ("q1", "q2", "q3")] == ["en1", "en2", "en3"]
    # approximate scores come from decompressed vectors: close to the exact ones
    for q in run:
        for d, s in run[q].items():
            if d in ex[q]:
                assert abs(s - ex[q][d]) < 0.03 * abs(ex[q][d])


def test_retriever_refuses_another_encoder_and_bad_params(e5_colbert, tmp_path):
    from xlir.retrievers.colbert import ColBERTRetriever
    from xlir.retrievers.dense import EncoderMismatchError

    e5_colbert.save(tmp_path / "idx")
    loaded = ColBERTRetriever.load(tmp_path / "idx", query_augment=False)
    with pytest.raises(EncoderMismatchError, match="query_augment"):
        loaded.search(QUERIES, k=3)
    with pytest.raises(ParamError, match="nbits"):
        ColBERTRetriever(nbits=3)
    # exact search needs the float16 vectors, kept only with keep_vectors=True
    r = ColBERTRetriever(lang="en", nbits=1, ncentroids=4)
    r.build_from_vectors([(np.eye(8, dtype=np.float16), np.array([4, 4], np.int32))])
    with pytest.raises(ParamError, match="keep_vectors"):
        r.plaid.search_exact(np.eye(8, dtype=np.float32)[:1], 1)


def test_chunked_encoding_resumes(tiny_docs_module, tmp_path, e5_colbert):
    from xlir.retrievers.colbert import ColBERTRetriever

    docs = [d for d in tiny_docs_module if d.lang == "en"]
    first = ColBERTRetriever(lang="en", chunk_size=2, encoder=e5_colbert.encoder)
    first.index(docs, work_dir=tmp_path / "work")
    assert len(list((tmp_path / "work").glob("chunk-*.npz"))) == 2

    class Boom:
        def __getattr__(self, name):
            return getattr(e5_colbert.encoder, name)

        def encode_docs(self, texts):
            raise AssertionError("finished chunks must not be encoded again")

    again = ColBERTRetriever(lang="en", chunk_size=2, encoder=Boom())
    again.index(docs, work_dir=tmp_path / "work")
    assert np.array_equal(np.asarray(again.plaid.residuals), np.asarray(first.plaid.residuals))
    assert again.search(QUERIES, k=2) == first.search(QUERIES, k=2)


def test_maxsim_reranker(e5_colbert, tiny_docs_module):
    from xlir.registry import RERANKERS

    english = {d.id: d for d in tiny_docs_module if d.lang == "en"}
    rr = RERANKERS.create("colbert", encoder=e5_colbert.encoder)
    first = {"q1": {d: float(i) for i, d in enumerate(english)}}  # en1 ranked last by the first stage
    out = rr.rerank([QUERIES[0]], first, english, depth=3)
    top3 = [d for d, _ in sorted(first["q1"].items(), key=lambda x: -x[1])[:3]]
    ranked = sorted(out["q1"], key=lambda d: -out["q1"][d])
    assert set(ranked[:3]) == set(top3) and len(out["q1"]) == len(english)  # only the top 3 were rescored
    out_all = rr.rerank([QUERIES[0]], first, english, depth=len(english))
    assert max(out_all["q1"], key=out_all["q1"].get) == "en1"
    q = e5_colbert.encoder.encode_queries([QUERIES[0].text])[0]
    vec, lens = e5_colbert.encoder.encode_docs([english["en1"].contents])
    assert out_all["q1"]["en1"] == pytest.approx(float(maxsim(q, vec, lens)[0]), rel=1e-5)
