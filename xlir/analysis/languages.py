"""Language table: ISO codes, and how each language is analyzed.

Every supported language has one :class:`LanguageProfile`. Codes are canonical ISO 639-1
where one exists; 639-3 and 639-2/B codes and a few common aliases resolve to it.
"""

from __future__ import annotations

import dataclasses
import logging

from xlir.errors import UnknownLanguageError

logger = logging.getLogger(__name__)

__all__ = ["LanguageProfile", "PROFILES", "normalize_lang", "supported_languages"]

MULTI = "multi"


@dataclasses.dataclass(frozen=True)
class LanguageProfile:
    """How one language is analyzed beyond the shared tokenizer (see tokenize.py)."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()
    lowercase: str = "casefold"  # casefold | turkish (dotted and dotless i)
    normalizer: str | None = None  # script-specific folding, see normalize.py
    stemmer: str | None = None  # Snowball algorithm (PyStemmer)
    # Stem the unnormalized token and normalize the stem: Snowball Arabic relies on
    # teh marbuta and hamza forms that the normalizer removes (ar->ar nDCG@10 0.944 vs 0.933).
    stem_first: bool = False
    apostrophe: str = "split"  # split | elision | possessive | drop_suffix, see analyzer.py
    stopwords: bool = True  # remove the language's list in stopword_lists.py, if it has one


def _p(code: str, name: str, *aliases: str, **kw) -> LanguageProfile:
    return LanguageProfile(code, name, aliases, **kw)


_LIST = [
    # Snowball-stemmed languages (every non-variant algorithm PyStemmer ships)
    _p("ar", "arabic", "ara", normalizer="arabic", stemmer="arabic", stem_first=True),
    _p("ca", "catalan", "cat", stemmer="catalan", apostrophe="elision"),
    _p("cs", "czech", "ces", "cze", stemmer="czech"),
    _p("da", "danish", "dan", stemmer="danish"),
    _p("de", "german", "deu", "ger", stemmer="german"),
    _p("el", "greek", "ell", "gre", normalizer="greek", stemmer="greek"),
    _p("en", "english", "eng", stemmer="english", apostrophe="possessive"),
    _p("eo", "esperanto", "epo", stemmer="esperanto"),
    _p("es", "spanish", "spa", stemmer="spanish"),
    _p("et", "estonian", "est", "ekk", stemmer="estonian"),
    _p("eu", "basque", "eus", "baq", stemmer="basque"),
    _p("fa", "persian", "fas", "per", "pes", normalizer="persian", stemmer="persian"),
    _p("fi", "finnish", "fin", stemmer="finnish"),
    _p("fr", "french", "fra", "fre", stemmer="french", apostrophe="elision"),
    _p("ga", "irish", "gle", stemmer="irish", apostrophe="elision"),
    _p("hi", "hindi", "hin", normalizer="devanagari", stemmer="hindi"),
    _p("hu", "hungarian", "hun", stemmer="hungarian"),
    _p("hy", "armenian", "hye", "arm", stemmer="armenian"),
    _p("id", "indonesian", "ind", "in", stemmer="indonesian"),
    _p("it", "italian", "ita", stemmer="italian", apostrophe="elision"),
    _p("lt", "lithuanian", "lit", stemmer="lithuanian"),
    _p("ne", "nepali", "nep", "npi", normalizer="devanagari", stemmer="nepali"),
    _p("nl", "dutch", "nld", "dut", stemmer="dutch"),
    _p("no", "norwegian", "nor", "nb", "nob", "nn", "nno", stemmer="norwegian"),
    _p("pl", "polish", "pol", stemmer="polish"),
    _p("pt", "portuguese", "por", stemmer="portuguese"),
    _p("ro", "romanian", "ron", "rum", "mo", stemmer="romanian"),
    _p("ru", "russian", "rus", normalizer="cyrillic", stemmer="russian"),
    _p("sr", "serbian", "srp", stemmer="serbian"),
    _p("st", "sesotho", "sot", stemmer="sesotho"),
    _p("sv", "swedish", "swe", stemmer="swedish"),
    _p("ta", "tamil", "tam", stemmer="tamil"),
    _p("tr", "turkish", "tur", lowercase="turkish", stemmer="turkish", apostrophe="drop_suffix"),
    _p("yi", "yiddish", "yid", "ydd", "ji", stemmer="yiddish"),
    # no stemmer: word tokens only
    _p("bg", "bulgarian", "bul", normalizer="cyrillic"),
    _p("bn", "bengali", "ben"),
    _p("he", "hebrew", "heb", "iw", normalizer="hebrew"),
    _p("hr", "croatian", "hrv"),
    _p("mr", "marathi", "mar", normalizer="devanagari"),
    _p("sk", "slovak", "slk", "slo"),
    _p("sl", "slovenian", "slv"),
    _p("uk", "ukrainian", "ukr", normalizer="cyrillic"),
    _p("ur", "urdu", "urd", normalizer="persian"),
    _p("vi", "vietnamese", "vie"),
    # CJK and Thai: character bigrams (see tokenize.py), which stopword lists cannot match
    _p("ja", "japanese", "jpn", stopwords=False),
    _p("ko", "korean", "kor", stopwords=False),
    _p("th", "thai", "tha", stopwords=False),
    _p("zh", "chinese", "zho", "chi", "cmn", "yue", stopwords=False),
    # language-agnostic, for mixed-language corpora: tokenization and case folding only
    _p(MULTI, "multilingual", "mul", "und", stopwords=False),
]

PROFILES: dict[str, LanguageProfile] = {p.code: p for p in _LIST}

_ALIASES: dict[str, str] = {}
for _prof in _LIST:
    for _key in (_prof.code, _prof.name, *_prof.aliases):
        if _ALIASES.setdefault(_key, _prof.code) != _prof.code:  # a typo in the table above
            raise AssertionError(f"language alias {_key!r} is defined twice")


def supported_languages() -> list[str]:
    """Return the sorted canonical codes :func:`get_analyzer` accepts (``multi`` included)."""
    return sorted(PROFILES)


def normalize_lang(code: str) -> str:
    """Return the canonical (ISO 639-1) code for an ISO 639-1/639-3/639-2B code or English name.

    Case and a region/script suffix (``zh-CN``, ``pt_BR``, ``zh-Hans``) are ignored.
    Raises :class:`~xlir.errors.UnknownLanguageError` listing the supported codes.
    """
    if not isinstance(code, str):
        raise UnknownLanguageError(f"language code must be a string, got {type(code).__name__}")
    key = code.strip().lower().replace("_", "-")
    found = _ALIASES.get(key) or _ALIASES.get(key.split("-", 1)[0])
    if found is None:
        raise UnknownLanguageError(
            f"unknown language code {code!r}; supported: {', '.join(supported_languages())}"
        )
    return found
