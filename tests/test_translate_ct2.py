"""The ``ctranslate2`` translator end to end, on a tiny random Marian model built at test time.

The model (see ``translate_fixtures.py``) is converted with ctranslate2's own converter,
so the real code path runs: tokenization, language tokens, batching, truncation, the
cache and the CLI. Its output is gibberish by construction; the tests check plumbing.
"""

import json
import logging

import pytest

pytest.importorskip("ctranslate2")
pytest.importorskip("sentencepiece")
pytest.importorskip("transformers")

from translate_fixtures import build_tiny_models, sentences  # noqa: E402

from xlir.cli.main import main  # noqa: E402
from xlir.errors import UnknownLanguageError  # noqa: E402
from xlir.translate import (  # noqa: E402
    TranslationCache,
    TranslationError,
    TranslationStats,
    get_translator,
    split_sentences,
    translate_docs,
    translate_texts,
)
from xlir.translate.ct2 import CT2Translator  # noqa: E402
from xlir.types import Doc  # noqa: E402

FAST = {"max_decoding_length": 12, "beam_size": 1}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return build_tiny_models(tmp_path_factory.getbasetemp() / "tiny-mt")


@pytest.fixture(scope="module")
def marian(models):
    return get_translator(f"ctranslate2:{models['marian']}", **FAST)


@pytest.fixture
def corpus(tmp_path):
    lines = sentences(60, seed=2)
    docs = [Doc(f"d{i:02d}", " ".join(lines[3 * i : 3 * i + 3]), lang="de") for i in range(20)]
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in docs), encoding="utf-8")
    return path, docs


def _segments(docs):
    return sum(len(split_sentences(d.text, d.lang)) for d in docs)


def xlir(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_marian_translates_in_batches_like_one_by_one(marian):
    assert (marian.family, marian.device, marian.compute_type) == ("marian", "cpu", "int8")
    texts = sentences(7, seed=3)
    batched = marian.translate(texts, src="de", tgt="en")
    assert len(batched) == 7 and all(isinstance(t, str) and t for t in batched)
    assert batched == [marian.translate([t], src="de", tgt="en")[0] for t in texts]
    assert len(set(batched)) > 1  # the random model still depends on its input
    tokens, prefix, cut = marian.prepare(["Der hund."], src="de", tgt="en")
    assert tokens[0][-1] == "</s>" and prefix is None and cut == 0  # a pair model: no language tokens
    with pytest.raises(UnknownLanguageError, match="'xx'"):
        marian.translate(["x"], src="xx", tgt="en")


def test_nllb_style_model_gets_language_tokens(models):
    nllb = CT2Translator(models["nllb"], **FAST)
    assert nllb.family == "nllb"
    tokens, prefix, _ = nllb.prepare(["Der hund."], src="de", tgt="fr")
    assert tokens[0][0] == "deu_Latn" and tokens[0][-1] == "</s>" and prefix == [["fra_Latn"]]
    out = nllb.translate(["Der hund.", "Die katze."], src="de", tgt="en")
    assert all("eng_Latn" not in t and "</s>" not in t for t in out)
    with pytest.raises(UnknownLanguageError, match=r"'ja' \(jpn_Jpan\) is not in this nllb model's vocabulary"):
        nllb.translate(["x"], src="de", tgt="ja")


def test_hf_tokenizer_json_gives_the_same_translations(models, marian):
    hf = CT2Translator(models["hf-tokenizer"], **FAST)
    texts = sentences(5, seed=4)
    assert hf.prepare(texts, src="de", tgt="en")[0] == marian.prepare(texts, src="de", tgt="en")[0]
    assert hf.translate(texts, src="de", tgt="en") == marian.translate(texts, src="de", tgt="en")


def test_identity_and_cache_key(models, marian):
    again = CT2Translator(models["marian"], **FAST)
    assert again.identity == marian.identity and again.cache_key == marian.cache_key
    assert CT2Translator(models["marian"], max_decoding_length=12, beam_size=2).cache_key != marian.cache_key
    assert CT2Translator(models["nllb"], **FAST).identity != marian.identity
    info = marian.describe()
    assert info["translator"] == "ctranslate2" and info["model"] == str(models["marian"]) and info["params"]["beam_size"] == 1


def test_bad_model_folders(tmp_path, models):
    with pytest.raises(TranslationError, match="not a ctranslate2 model folder"):
        CT2Translator(tmp_path)
    import shutil

    shutil.copytree(models["marian"], tmp_path / "m")
    for name in ("source.spm", "target.spm"):
        (tmp_path / "m" / name).unlink()
    with pytest.raises(TranslationError, match="no tokenizer found"):
        CT2Translator(tmp_path / "m")
    from xlir.errors import ParamError

    with pytest.raises(ParamError, match="unknown parameter"):
        CT2Translator(models["marian"], beam=3)


def test_truncation_at_the_model_limit_is_counted_once(models, caplog):
    mt = CT2Translator(models["marian"], max_input_length=8, **FAST)
    texts = ["Der hund.", "Der hund und die katze sehen das haus am meer und den berg."] * 2 + ["Die stadt am fluss und der zug."]
    stats = TranslationStats()
    with caplog.at_level(logging.WARNING, logger="xlir.translate"):
        translate_texts(texts, mt, src="de", tgt="en", stats=stats)
    assert stats.truncated == 2  # the repeated long text is translated (and counted) once
    warnings = [r.getMessage() for r in caplog.records if "input limit" in r.getMessage()]
    assert warnings == ["2 of 3 translated segments were longer than the model's input limit (8 tokens) and were truncated: "
                        "their translations miss the end"]
    tokens, _, cut = mt.prepare(texts[1:2], src="de", tgt="en")
    assert cut == 1 and len(tokens[0]) == 8 and tokens[0][-1] == "</s>"


def test_documents_through_the_cache(marian, corpus, tmp_path):
    _, docs = corpus
    with TranslationCache(tmp_path / "c") as cache:
        first = TranslationStats()
        out = list(translate_docs(docs, marian, tgt="en", cache=cache, stats=first))
        assert [d.id for d in out] == [d.id for d in docs] and all(d.lang == "en" and d.text for d in out)
        assert first.segments == _segments(docs) and first.cache_hits == 0 and first.model_segments == first.unique_segments
        second = TranslationStats()
        assert list(translate_docs(docs, marian, tgt="en", cache=cache, stats=second)) == out
        assert second.cache_hits == second.unique_segments and second.model_segments == 0


def test_cli_translate_with_cache_and_resume(models, corpus, tmp_path, capsys, monkeypatch):
    path, docs = corpus
    out = tmp_path / "en.jsonl"
    args = ["translate", str(path), "--src", "de", "--tgt", "en", "--model", str(models["marian"]), "-o", str(out),
            "--cache", str(tmp_path / "cache"), "-p", "max_decoding_length=12", "-p", "beam_size=1", "-p", "batch_size=2"]

    calls = {"n": 0}
    original = CT2Translator._collect

    def interrupted(self, results, truncated):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # Ctrl-C while waiting for the third batch of 16 segments
        return original(self, results, truncated)

    monkeypatch.setattr(CT2Translator, "_collect", interrupted)
    rc, _, err = xlir(capsys, *args)
    assert rc == 130  # Ctrl-C
    assert not out.exists() and list(tmp_path.glob(".en.jsonl*")) == []  # no half-written output
    with TranslationCache(tmp_path / "cache") as cache:
        assert cache.count() == 32  # two finished batches of 16 (8 x batch_size) survived
    monkeypatch.setattr(CT2Translator, "_collect", original)

    rc, stdout, err = xlir(capsys, *args)  # the same command again: resumes
    assert rc == 0, err
    n = _segments(docs)
    assert f"{n} segments, {n} unique, 32 cache hits ({100 * 32 / n:.0f}%), {n - 32} newly translated" in err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [d.id for d in docs] and all(r["lang"] == "en" for r in rows)

    rc, _, err = xlir(capsys, *args, "--overwrite")  # everything cached now
    assert rc == 0 and f"{n} cache hits (100%), 0 newly translated" in err
    assert [json.loads(line) for line in out.read_text().splitlines()] == rows


def test_cli_index_and_search_with_ctranslate2(models, corpus, tmp_path, capsys):
    path, _ = corpus
    idx = tmp_path / "idx"
    mt = ["--translator", f"ctranslate2:{models['marian']}", "--translator-param", "max_decoding_length=12",
          "--translation-cache", str(tmp_path / "cache")]
    rc, _, err = xlir(capsys, "-q", "index", str(path), "--lang", "de", "--translate-docs", "--translate-to", "en", *mt,
                      "-o", str(idx))
    assert rc == 0, err
    t = json.loads((idx / "manifest.json").read_text())["translation"]
    assert t["translator"] == "ctranslate2" and t["identity"].startswith("ctranslate2:ct2-marian@")
    assert (t["src"], t["tgt"], t["family"], t["params"]["max_decoding_length"]) == (["de"], "en", "marian", 12)
    (tmp_path / "q.tsv").write_text("q1\tDer hund jagt die katze.\n")
    rc, out, err = xlir(capsys, "-q", "search", str(idx), "--queries", str(tmp_path / "q.tsv"), "--query-lang", "de",
                        "--translate-query", *mt)
    assert rc == 0, err  # translated queries are in the index language: no mismatch
