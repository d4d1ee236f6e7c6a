"""Behaviour of xlir.analysis: per-script tokenization, normalization, stopwords, stemming."""

from __future__ import annotations

import json
import pickle
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import pytest

from xlir.analysis import Analyzer, get_analyzer, normalize_lang, supported_languages
from xlir.errors import UnknownLanguageError, XlirError


def terms(lang: str, text: str, **kw) -> list[str]:
    return get_analyzer(lang, **kw)(text)


# -- languages and codes --------------------------------------------------------------


@pytest.mark.parametrize(
    "code, canonical",
    [("fr", "fr"), ("fra", "fr"), ("fre", "fr"), ("FRA", "fr"), ("de", "de"), ("deu", "de"),
     ("ger", "de"), ("zh", "zh"), ("zho", "zh"), ("chi", "zh"), ("zh-CN", "zh"),
     ("zh_Hans", "zh"), ("pt-BR", "pt"), ("ell", "el"), ("ara", "ar"), ("hin", "hi"),
     ("tha", "th"), ("vie", "vi"), ("tur", "tr"), ("rus", "ru"), ("spa", "es"), (" en ", "en"),
     ("multi", "multi"), ("nob", "no")],
)
def test_normalize_lang(code, canonical):
    assert normalize_lang(code) == canonical


def test_iso_639_3_gives_the_same_analyzer():
    assert get_analyzer("fra").config() == get_analyzer("fr").config()
    assert get_analyzer("fra") is get_analyzer("fr")
    assert get_analyzer("zho").config()["lang"] == "zh"


def test_unknown_code_lists_supported():
    with pytest.raises(UnknownLanguageError) as e:
        normalize_lang("xx")
    message = str(e.value)
    assert "'xx'" in message
    assert "supported: ar, bg," in message
    for code in ("de", "en", "th", "zh", "multi"):
        assert code in message
    with pytest.raises(ValueError):  # UnknownLanguageError is a ValueError too
        get_analyzer("klingon")


def test_supported_languages():
    import Stemmer

    langs = supported_languages()
    assert langs == sorted(langs)
    required = "ar de el en es hi ru th tr vi zh ja ko it pt nl fa multi".split()
    assert set(required) <= set(langs)
    # every Snowball language PyStemmer ships has an analyzer that uses it
    stemmers = {get_analyzer(code).config()["stemmer"] for code in langs}
    assert set(Stemmer.algorithms()) - {"porter", "dutch_porter"} <= stemmers


# -- basic behaviour -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh", "th", "ar", "multi"])
@pytest.mark.parametrize("text", ["", "   \n\t", "!!! ... ---"])
def test_empty_text(lang, text):
    assert terms(lang, text) == []


def test_stopwords_removed_unless_disabled():
    assert terms("en", "The cat is on the mat") == ["cat", "mat"]
    kept = terms("en", "The cat is on the mat", stopwords=False)
    assert kept == ["the", "cat", "is", "on", "the", "mat"]
    assert terms("de", "Der Hund und die Katze", stem=False) == ["hund", "katze"]
    assert terms("ru", "кошка и собака", stem=False) == ["кошка", "собака"]
    assert get_analyzer("en").config()["stopwords"]["count"] < 300  # not the 1,298-word list


def test_stemming_can_be_disabled():
    assert terms("en", "running dogs") == ["run", "dog"]
    assert terms("en", "running dogs", stem=False) == ["running", "dogs"]
    assert get_analyzer("en", stem=False).config()["stemmer"] is None


def test_punctuation_and_case_do_not_matter():
    an = get_analyzer("en")
    assert an("Retrieval, (retrieval) RETRIEVAL! retrieval.") == ["retriev"] * 4


def test_batch_equals_calls():
    an = get_analyzer("fr")
    texts = ["L'avion décolle.", "", "Les ordinateurs calculent", "l'avion"]
    assert an.analyze_batch(texts) == [an(t) for t in texts]
    assert an.analyze_batch(iter(texts)) == [an(t) for t in texts]


def test_repeated_calls_are_stable():
    an = get_analyzer("zh")
    text = "信息检索是一门学科 BM25 信息检索"
    assert an(text) == an(text) == an(text)


def test_threads_get_the_same_terms():
    texts = [f"Document {i} : l'avion, les ordinateurs et {i * 7} décollages" for i in range(300)]
    expected = [terms("fr", t) for t in texts]
    fresh = Analyzer(get_analyzer("fr").profile)  # empty caches, filled concurrently
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(fresh, texts)) == expected


def test_unicode_normalization():
    assert terms("en", "ＡＢＣ") == ["abc"]  # fullwidth (NFKC)
    assert terms("fr", "cafe\u0301", stem=False) == terms("fr", "café", stem=False) == ["café"]
    assert terms("ar", "٢٠٢٤") == ["2024"]  # Arabic-Indic digits
    assert terms("hi", "२०२४") == ["2024"]
    assert terms("en", "infor\u00admation") == terms("en", "information")  # soft hyphen


# -- per language / script ------------------------------------------------------------


def test_french_elision_and_stemming():
    assert terms("fr", "l'avion") == terms("fr", "avion") == ["avion"]
    assert terms("fr", "l'ordinateur") == terms("fr", "ordinateurs")
    assert terms("fr", "L’avion", stem=False) == ["avion"]  # typographic apostrophe
    assert terms("fr", "qu'il jusqu'au", stopwords=False, stem=False) == ["il", "au"]


def test_italian_elision():
    assert terms("it", "dell'anno", stem=False) == ["anno"]


def test_english_possessive():
    assert terms("en", "Obama's policy") == terms("en", "Obama policy")


def test_german():
    assert terms("de", "Häuser") == terms("de", "Haus")
    assert terms("de", "Straße", stem=False) == ["strasse"]  # case folding


def test_russian():
    assert terms("ru", "книги") == terms("ru", "книга")
    assert terms("ru", "ёлка", stem=False) == ["елка"]


def test_arabic_normalization():
    ar = get_analyzer("ar", stem=False, stopwords=False)
    assert ar("أحمد") == ar("إحمد") == ar("آحمد") == ["احمد"]  # alef variants
    assert ar("كَتَبَ") == ["كتب"]  # harakat
    assert ar("كتـــاب") == ["كتاب"]  # tatweel
    assert ar("مدرسة") == ["مدرسه"]  # teh marbuta
    assert ar("على") == ["علي"]  # alef maksura
    assert terms("ar", "المدرسة") == terms("ar", "مدرسة")  # stemmed: article and ending


def test_greek_accents_and_sigma():
    assert terms("el", "Άνθρωπος", stem=False) == ["ανθρωποσ"]
    assert terms("el", "ΑΝΘΡΩΠΟΣ") == terms("el", "άνθρωπος") == terms("el", "ανθρώπων")
    assert terms("el", "προϊόν", stem=False) == ["προιον"]  # dialytika and tonos


def test_hindi_keeps_vowel_signs():
    # \w alone splits at every matra; a word must stay one token
    word = "किताबें"
    assert terms("hi", word, stem=False) == [word]
    assert terms("hi", "हिन्दी भाषा", stem=False, stopwords=False) == ["हिन्दी", "भाषा"]
    assert terms("hi", "किताबें") == terms("hi", "किताब")
    assert all(not unicodedata.combining(t[0]) for t in terms("hi", "लड़कों ने किताबें पढ़ीं"))


def test_turkish_dotted_and_dotless_i():
    assert terms("tr", "IRMAK", stem=False) == ["ırmak"]
    assert terms("tr", "İzmir", stem=False) == ["izmir"]
    assert terms("tr", "İstanbul'da") == terms("tr", "İstanbul")  # suffix after apostrophe


def test_vietnamese_keeps_diacritics():
    assert terms("vi", "Việt Nam") == ["việt", "nam"]
    assert terms("vi", "ma") != terms("vi", "mà")


def test_chinese_bigrams():
    assert terms("zh", "信息检索") == ["信息", "息检", "检索"]
    assert terms("zh", "书") == ["书"]  # an isolated character is a unigram
    assert terms("zh", "信息，检索。") == ["信息", "检索"]  # punctuation ends a run


def test_mixed_latin_and_cjk():
    assert terms("zh", "iPhone手机") == ["iphone", "手机"]
    assert terms("zh", "BM25算法在2024年") == ["bm25", "算法", "法在", "2024", "年"]
    assert terms("en", "the 信息检索 system") == ["信息", "息检", "检索", "system"]


def test_japanese():
    assert terms("ja", "東京都") == ["東京", "京都"]
    assert terms("ja", "ｶﾀｶﾅ") == terms("ja", "カタカナ") == ["カタ", "タカ", "カナ"]  # half width
    assert terms("ja", "日本語を勉強") == ["日本", "本語", "語を", "を勉", "勉強"]


def test_korean():
    assert terms("ko", "안녕하세요 세계") == ["안녕", "녕하", "하세", "세요", "세계"]


def test_thai_segmentation():
    text = "ภาษาไทยเป็นภาษาราชการของประเทศไทย"
    out = terms("th", text)
    assert out and all(out)
    # no term starts with a combining vowel sign or tone mark
    assert all(not unicodedata.combining(t[0]) for t in out)
    # a word in a query shares terms with the text that contains it
    assert set(terms("th", "ประเทศไทย")) <= set(out)
    assert terms("th", "ไทย") == ["ไทย"]


def test_multi_is_language_agnostic():
    an = get_analyzer("multi")
    assert an("The running Dogs 信息检索 Ελληνικά") == [
        "the", "running", "dogs", "信息", "息检", "检索", "ελληνικά"
    ]
    config = an.config()
    assert config["stemmer"] is None and config["stopwords"] is None


# -- config ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr", "ar", "tr", "zh", "th", "multi"])
def test_config_round_trips_json(lang):
    for an in (get_analyzer(lang), get_analyzer(lang, stem=False, stopwords=False)):
        stored = json.loads(json.dumps(an.config()))
        assert stored == an.config()
        again = Analyzer.from_config(stored)
        assert again.config() == an.config()
        assert again("L'avion 信息检索 running") == an("L'avion 信息检索 running")


def test_config_describes_the_analyzer():
    config = get_analyzer("fr").config()
    assert config["lang"] == "fr"
    assert config["stemmer"] == "french"
    assert config["normalization"] == "NFKC"
    assert isinstance(config["analyzer_version"], int)
    assert config["stopwords"]["count"] > 0 and config["stopwords"]["source"]
    assert config["tokenizer"]


def test_from_config_refuses_what_it_cannot_reproduce():
    config = get_analyzer("en").config()
    with pytest.raises(XlirError, match="version"):
        Analyzer.from_config({**config, "analyzer_version": 999})
    with pytest.raises(XlirError, match="stopwords"):
        Analyzer.from_config({**config, "stopwords": {**config["stopwords"], "sha1": "0"}})


def test_pickles_as_the_shared_analyzer():
    an = get_analyzer("de", stopwords=False)
    assert pickle.loads(pickle.dumps(an)) is an
