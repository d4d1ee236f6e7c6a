"""The :class:`Analyzer`: text -> index terms for one language, and :func:`get_analyzer`.

Speed comes from doing per text only what C does fast (``str.split``) and doing all
tokenization, normalization, stopword filtering, stemming and CJK/Thai splitting once per
distinct whitespace-delimited chunk (``"l'avion,"``): the result is cached as a tuple of
terms, and a text becomes its terms with ``chain.from_iterable(map(cache.__getitem__,
chunks))``, a loop that never enters Python (5x faster than a ``re.findall`` per text).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import unicodedata
from functools import lru_cache
from itertools import chain
from typing import Any, Iterable, Mapping

from xlir.analysis import normalize, stopwords as sw, tokenize
from xlir.analysis.languages import PROFILES, LanguageProfile, normalize_lang
from xlir.errors import XlirError

logger = logging.getLogger(__name__)

__all__ = ["Analyzer", "get_analyzer", "ANALYZER_VERSION"]

# Bump whenever a change alters the terms any analyzer produces: indexes record it.
ANALYZER_VERSION = 1

_MAX_CACHE = 300_000  # entries per cache before it is reset (~100 MB for both caches)
_CACHED_TERMS = 4  # results with more terms (long CJK/Thai runs) are not cached

# Clitics dropped before an apostrophe (Lucene's default elision articles per language).
_ELISION = {
    "fr": {"l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu"},
    "it": {"c", "l", "all", "dall", "dell", "nell", "sull", "coll", "pell", "gl", "agl", "dagl",
           "degl", "negl", "sugl", "un", "m", "t", "s", "v", "d"},
    "ca": {"d", "l", "m", "n", "s", "t"},
    "ga": {"d", "m", "b"},
}


class Analyzer:
    """Turns text into index terms for one language.

    Build one with :func:`get_analyzer`; calling it on a text returns its list of terms.
    """

    def __init__(
        self,
        profile: LanguageProfile,
        *,
        stem: bool = True,
        stopwords: bool = True,
    ):
        self.profile = profile
        self.lang = profile.code
        self._lower = normalize.lowercaser("turkish" if profile.normalizer == "turkish" else "casefold")
        self._lower_name = "turkish" if profile.normalizer == "turkish" else "casefold"
        self._norm = normalize.normalizer(profile.normalizer)
        self._pre = normalize.pre_table()
        self._needs_pre = normalize.pre_regex().search
        self._elision = _ELISION.get(profile.code, set())
        self._stemmer_name = profile.stemmer if stem else None
        self._stem = None
        if self._stemmer_name:
            import Stemmer

            self._stem = Stemmer.Stemmer(self._stemmer_name).stemWord
        self._words = tokenize.word_regex().findall
        self._runs = tokenize.run_regex().findall
        self._stop: frozenset[str] = frozenset()
        self._stop_info: dict[str, Any] | None = None
        if stopwords and profile.stopwords:
            self._stop, self._stop_info = self._load_stopwords(profile)
        self._cache: dict[str, tuple[str, ...]] = {}  # whitespace-delimited chunk -> terms
        self._tokens: dict[str, tuple[str, ...]] = {}  # regex token -> terms
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Analyzer(lang={self.lang!r}, stemmer={self._stemmer_name!r}, stopwords={len(self._stop)})"

    # -- public -----------------------------------------------------------------------

    def __call__(self, text: str) -> list[str]:
        """Return the terms of ``text`` in order (stopwords removed, stemmed)."""
        chunks = text.split()
        try:
            return list(chain.from_iterable(map(self._cache.__getitem__, chunks)))
        except KeyError:
            return self._slow(chunks)

    def analyze_batch(self, texts: Iterable[str]) -> list[list[str]]:
        """Return the terms of each text."""
        return [self(t) for t in texts]

    def config(self) -> dict[str, Any]:
        """Return a JSON-able description that fully determines the terms produced; it is
        stored in index manifests and accepted by :meth:`from_config`."""
        return {
            "analyzer_version": ANALYZER_VERSION,
            "lang": self.lang,
            "tokenizer": self.profile.tokenizer,
            "cjk": "bigram",
            "thai": "cluster_bigram",
            "normalization": "NFKC",
            "lowercase": self._lower_name,
            "char_normalizer": self.profile.normalizer,
            "apostrophe": self.profile.apostrophe,
            "stemmer": self._stemmer_name,
            "stopwords": dict(self._stop_info) if self._stop_info else None,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Analyzer":
        """Re-create the analyzer described by ``config`` (from :meth:`config`).

        Raises XlirError when this version of xlir cannot reproduce it exactly.
        """
        version = config.get("analyzer_version")
        if version != ANALYZER_VERSION:
            raise XlirError(
                f"index was analyzed with analyzer version {version}, this xlir has version "
                f"{ANALYZER_VERSION}; rebuild the index"
            )
        analyzer = get_analyzer(
            config["lang"],
            stem=config.get("stemmer") is not None,
            stopwords=config.get("stopwords") is not None,
        )
        mine = analyzer.config()
        diff = sorted(k for k in set(mine) | set(config) if mine.get(k) != config.get(k))
        if diff:
            raise XlirError(
                f"cannot re-create the analyzer: {', '.join(diff)} differ "
                f"(stored {config}, this xlir {mine}); rebuild the index"
            )
        return analyzer

    # -- internals --------------------------------------------------------------------

    def _slow(self, chunks: list[str]) -> list[str]:
        """Analyze whitespace-delimited chunks, caching the results of short ones."""
        cache, tokens = self._cache, self._tokens
        out: list[str] = []
        with self._lock:  # PyStemmer objects are not thread-safe
            if len(cache) > _MAX_CACHE:
                cache.clear()
            if len(tokens) > _MAX_CACHE:
                tokens.clear()
            for chunk in chunks:
                terms = cache.get(chunk)
                if terms is None:
                    terms = []
                    for raw in self._words(chunk):
                        found = tokens.get(raw)
                        if found is None:
                            found = tuple(self._analyze_token(raw))
                            if len(found) <= _CACHED_TERMS:
                                tokens[raw] = found
                        terms.extend(found)
                    terms = tuple(terms)
                    # long CJK/Thai runs rarely repeat: caching them would only fill memory
                    if len(terms) <= _CACHED_TERMS:
                        cache[chunk] = terms
                out.extend(terms)
        return out

    def _clean(self, raw: str) -> str:
        """NFKC, digit/apostrophe folding and lowercasing of one raw token."""
        if raw.isascii():
            return self._lower(raw)
        token = unicodedata.normalize("NFKC", raw)
        if self._needs_pre(token):
            token = token.translate(self._pre)
        return self._lower(token)

    def _split_apostrophes(self, token: str) -> list[str]:
        parts = token.split("'")
        mode = self.profile.apostrophe
        if mode == "drop_suffix":  # Turkish: İstanbul'da -> istanbul (Lucene's ApostropheFilter)
            return parts[:1]
        if mode == "possessive":  # English: obama's -> obama, don't -> dont
            if parts[-1] == "s":
                parts.pop()
            return ["".join(parts)]
        if mode == "elision" and parts[0] in self._elision:  # l'avion -> avion
            parts.pop(0)
        return parts

    def _analyze_token(self, raw: str) -> list[str]:
        token = self._clean(raw)
        words = self._split_apostrophes(token) if "'" in token else [token]
        out: list[str] = []
        for word in words:
            if word.isascii() and "_" not in word:
                out.extend(self._term(word))
                continue
            for cjk, thai, other in self._runs(word):
                if cjk:
                    out.extend(tokenize.bigrams(cjk))
                elif thai:
                    out.extend(tokenize.thai_bigrams(thai))
                else:
                    out.extend(self._term(other))
        return out

    def _term(self, word: str) -> list[str]:
        norm = self._norm(word) if self._norm is not None else word
        if not norm or norm in self._stop:
            return []
        if self._stem is None:
            return [norm]
        if self.profile.stem_first and self._norm is not None:
            return [self._norm(self._stem(word))]
        return [self._stem(norm)]

    def _stop_forms(self, word: str) -> list[str]:
        word = self._clean(word)
        parts = self._split_apostrophes(word) if "'" in word else [word]
        return [self._norm(p) for p in parts] if self._norm is not None else parts

    def _load_stopwords(self, profile: LanguageProfile) -> tuple[frozenset[str], dict[str, Any] | None]:
        found = sw.stopword_list(profile.code)
        if found is None:
            return frozenset(), None
        words, selection = found
        # stopwords match tokens after lowercasing and script normalization, before stemming
        norm = {form for w in words for form in self._stop_forms(w)} - {""}
        digest = hashlib.sha1("\n".join(sorted(norm)).encode()).hexdigest()[:12]
        info = {"source": sw.SOURCE, "selection": selection, "count": len(norm), "sha1": digest}
        return frozenset(norm), info


@lru_cache(maxsize=None)
def _cached(code: str, stem: bool, stopwords: bool) -> Analyzer:
    return Analyzer(PROFILES[code], stem=stem, stopwords=stopwords)


def get_analyzer(lang: str, *, stem: bool = True, stopwords: bool = True) -> Analyzer:
    """Return the (shared, cached) analyzer for ``lang``.

    ``lang`` is any code :func:`normalize_lang` accepts, or ``multi`` for a
    language-agnostic analyzer. Raises UnknownLanguageError for unknown codes.
    """
    return _cached(normalize_lang(lang), bool(stem), bool(stopwords))
