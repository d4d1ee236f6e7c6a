"""Lucene retrievers through Pyserini's Anserini: ``lucene-bm25`` and ``lucene-impact``.

Both keep xlir's index folder (manifest, ``docids.txt``, doc store) and put the Lucene
index in its ``lucene/`` subfolder; the files there are listed in the manifest with their
sizes, like every other file. The JVM is started by :mod:`xlir.lucene_jvm` the first time
a retriever indexes or searches (not when it is created or loaded).

``lucene-bm25`` indexes with Anserini's ``SimpleIndexer`` (what Pyserini's
``LuceneIndexer`` wraps) and searches with ``SimpleSearcher`` (``LuceneSearcher``), so an
index and its scores are Pyserini's for the same ``-language``:

* ``lang`` picks Anserini's analyzer as ``-language`` does: one of Lucene's language
  analyzers for the 25 codes of Anserini's ``AnalyzerMap`` (:data:`ANSERINI_LANGUAGES`),
  ``WhitespaceAnalyzer`` for the pre-tokenized languages (:data:`WHITESPACE_LANGUAGES`),
  and Anserini's English analyzer (Porter stemmer, English stopwords) for ``en`` and for
  every other code, as Pyserini does (``el``, ``vi``...; a warning says so).
* Queries are analyzed with the analyzer of their own language (``Query.lang``, else the
  index's), the one the index was built with when they are the same. (Pyserini's
  ``set_language("te")`` searches with a whitespace analyzer while its indexer uses
  ``TeluguAnalyzer``; xlir uses the indexer's analyzer on both sides.)
* BM25 with ``k1``/``b`` (Lucene's defaults 0.9/0.4); scores are Anserini's, rounded to 4
  decimals with ties broken by doc id (its ``ScoreTiesAdjusterReranker``).
* ``rm3=True`` stores document vectors at indexing time (``-storeDocvectors``) and expands
  queries with RM3 (``rm3_fb_terms``, ``rm3_fb_docs``, ``rm3_original_query_weight``);
  Anserini's filter that keeps only ``[a-z0-9]`` expansion terms is applied to English
  queries only (it would remove every term of most other languages).

``lucene-impact`` stores learned sparse (SPLADE) term weights in a Lucene impact index
and scores by dot product (Anserini's ``ImpactSimilarity``), as Anserini does: each weight
is quantized to an integer, ``round(w / weight_range * quant_range)`` (Pyserini's SPLADE
encoders: 5 and 256), a document becomes the pseudo-text in which each term is repeated
that many times (``JsonVectorCollection``), indexed pre-tokenized, so that the term
frequency *is* the impact; queries are quantized the same way and searched with
``SimpleImpactSearcher``. Scores are returned divided by ``(quant_range / weight_range)**2``
so that they approximate the float dot product (the ranking is the integer one).

The term weights come from an encoder object with ``encode_docs(texts)`` and
``encode_queries(texts)`` returning one ``{term: weight}`` dict per text (or anything with
``to_dicts(encoder.vocab)``, like :class:`xlir.encoders.sparse.SpladeEncoder`'s batches) and an
``identity()`` dict recorded in the manifest; pass it as ``encoder=``, or leave it out to
get xlir's SPLADE encoder for ``model`` (default ``splade-tiny``, offline, English).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from xlir.errors import IndexFormatError, InputError, ParamError, UnknownLanguageError, XlirError
from xlir.progress import progress
from xlir.retrievers.base import IndexedRetriever
from xlir.types import Doc, Query, Run

logger = logging.getLogger(__name__)

__all__ = [
    "ANSERINI_LANGUAGES",
    "WHITESPACE_LANGUAGES",
    "AnalyzerSpec",
    "lucene_analyzer",
    "LuceneBM25Params",
    "LuceneBM25Retriever",
    "LuceneImpactParams",
    "LuceneImpactRetriever",
    "LuceneIndexError",
    "quantize_weights",
]

LUCENE_DIR = "lucene"
_DOC_BATCH = 2000  # documents per SimpleIndexer.addRawDocuments call
_QUERY_BATCH = 1000  # queries per batch_search call

#: Anserini 1.7.1's ``io.anserini.analysis.AnalyzerMap`` (what ``-language`` selects when indexing)
ANSERINI_LANGUAGES: dict[str, str] = {
    "ar": "org.apache.lucene.analysis.ar.ArabicAnalyzer",
    "bn": "org.apache.lucene.analysis.bn.BengaliAnalyzer",
    "da": "org.apache.lucene.analysis.da.DanishAnalyzer",
    "de": "org.apache.lucene.analysis.de.GermanAnalyzer",
    "es": "org.apache.lucene.analysis.es.SpanishAnalyzer",
    "fa": "org.apache.lucene.analysis.fa.PersianAnalyzer",
    "fi": "org.apache.lucene.analysis.fi.FinnishAnalyzer",
    "fr": "org.apache.lucene.analysis.fr.FrenchAnalyzer",
    "hi": "org.apache.lucene.analysis.hi.HindiAnalyzer",
    "hu": "org.apache.lucene.analysis.hu.HungarianAnalyzer",
    "id": "org.apache.lucene.analysis.id.IndonesianAnalyzer",
    "it": "org.apache.lucene.analysis.it.ItalianAnalyzer",
    "ja": "org.apache.lucene.analysis.ja.JapaneseAnalyzer",
    "ko": "org.apache.lucene.analysis.cjk.CJKAnalyzer",
    "nl": "org.apache.lucene.analysis.nl.DutchAnalyzer",
    "no": "org.apache.lucene.analysis.no.NorwegianAnalyzer",
    "pl": "org.apache.lucene.analysis.morfologik.MorfologikAnalyzer",
    "pt": "org.apache.lucene.analysis.pt.PortugueseAnalyzer",
    "ru": "org.apache.lucene.analysis.ru.RussianAnalyzer",
    "sv": "org.apache.lucene.analysis.sv.SwedishAnalyzer",
    "te": "org.apache.lucene.analysis.te.TeluguAnalyzer",
    "th": "org.apache.lucene.analysis.th.ThaiAnalyzer",
    "tr": "org.apache.lucene.analysis.tr.TurkishAnalyzer",
    "uk": "org.apache.lucene.analysis.uk.UkrainianMorfologikAnalyzer",
    "zh": "org.apache.lucene.analysis.cjk.CJKAnalyzer",
}
#: languages Pyserini searches with ``WhitespaceAnalyzer`` (indexed with ``-pretokenized``)
WHITESPACE_LANGUAGES = ("sw", "ha", "so", "yo")
DEFAULT_ANALYZER = "io.anserini.analysis.DefaultEnglishAnalyzer"
WHITESPACE_ANALYZER = "org.apache.lucene.analysis.core.WhitespaceAnalyzer"


class LuceneIndexError(XlirError, RuntimeError):
    """Lucene refused documents while indexing (the message says how many and why, where known)."""


@dataclass(frozen=True)
class AnalyzerSpec:
    """How Anserini analyzes one language: the ``-language`` code, the Java analyzer class,
    whether the text is pre-tokenized (whitespace), whether it is the English fallback."""

    lang: str
    java_class: str
    pretokenized: bool = False
    fallback: bool = False

    @property
    def english(self) -> bool:
        return self.java_class == DEFAULT_ANALYZER

    def config(self) -> dict[str, Any]:
        return {"language": self.lang, "class": self.java_class, "pretokenized": self.pretokenized,
                "fallback": self.fallback}


def lucene_analyzer(lang: str) -> AnalyzerSpec:
    """The Anserini analyzer for ``lang`` (ISO 639-1/639-3 code or English name; ``multi`` and
    codes without a Lucene analyzer get Anserini's English default, as in Pyserini).

    Raises :class:`UnknownLanguageError` for a code neither Anserini nor xlir knows.
    """
    key = str(lang).strip().lower().replace("_", "-")
    base = key.split("-", 1)[0]
    if base not in ANSERINI_LANGUAGES and base not in WHITESPACE_LANGUAGES and base != "en":
        from xlir.analysis import normalize_lang

        try:
            base = normalize_lang(key)
        except UnknownLanguageError:
            known = sorted({*ANSERINI_LANGUAGES, *WHITESPACE_LANGUAGES, "en"})
            raise UnknownLanguageError(
                f"unknown language code {lang!r}; Lucene (Anserini) analyzes {', '.join(known)}, "
                "and any code xlir knows with its English default"
            ) from None
    if base in ANSERINI_LANGUAGES:
        return AnalyzerSpec(base, ANSERINI_LANGUAGES[base])
    if base in WHITESPACE_LANGUAGES:
        return AnalyzerSpec(base, WHITESPACE_ANALYZER, pretokenized=True)
    return AnalyzerSpec(base, DEFAULT_ANALYZER, fallback=base != "en")


def _warn_fallback(spec: AnalyzerSpec, what: str) -> None:
    if spec.fallback:
        logger.warning(
            "%s: Anserini has no analyzer for %r; using its English analyzer (Porter stemmer, English stopwords), "
            "as Pyserini does", what, spec.lang,
        )


def _java_analyzer(spec: AnalyzerSpec):
    from xlir.lucene_jvm import jclass, require_thai

    if spec.lang == "th" and not spec.pretokenized:
        require_thai()
    if spec.pretokenized:
        return jclass(WHITESPACE_ANALYZER)()
    if spec.lang in ANSERINI_LANGUAGES:
        analyzer = jclass("io.anserini.analysis.AnalyzerMap").getLanguageSpecificAnalyzer(spec.lang)
        if analyzer is None:
            raise LuceneIndexError(f"Anserini could not create its analyzer for {spec.lang!r} ({spec.java_class})")
        return analyzer
    return jclass(DEFAULT_ANALYZER).newDefaultInstance()


def _jlist(items: Iterable[str]):
    from xlir.lucene_jvm import jclass

    out = jclass("java.util.ArrayList")()
    for item in items:
        out.add(item)
    return out


def _doc_json(docid: str, contents: str) -> str:
    # ASCII JSON: Anserini parses it; no astral characters cross JNI as (modified) UTF-8
    return json.dumps({"id": docid, "contents": contents}, ensure_ascii=True)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)  # Lucene never modifies a file it has written: sharing the inode is safe
    except OSError:
        shutil.copy2(src, dst)


def _versions(info) -> dict[str, Any]:
    from xlir.lucene_jvm import anserini_version, jclass

    try:
        import importlib.metadata

        pyserini = importlib.metadata.version("pyserini")
    except Exception:  # noqa: BLE001  (informational only)
        pyserini = None
    return {
        "pyserini": pyserini,
        "anserini": anserini_version(info.anserini_jar),
        "lucene": str(jclass("org.apache.lucene.util.Version").LATEST.toString()),
        "java": info.java_version,
    }


class _LuceneRetriever(IndexedRetriever):
    """Shared machinery: a Lucene directory built in a temporary folder, copied into ``lucene/`` on save."""

    supports_segments = False
    segments_unsupported = (
        "Lucene scores each of its directories with that directory's own statistics, so separate xlir "
        "segments of Lucene directories would not score like one index (Lucene's own segments live inside "
        "the one directory xlir writes)"
    )

    def __init__(self, params: Any = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        self._lucene_dir: Path | None = None
        self._lucene_info: dict[str, Any] = {}
        self._searcher = None
        self._analyzers: dict[str, Any] = {}
        self._build_dir: Path | None = None

    # -- building ----------------------------------------------------------------------
    def _new_build_dir(self) -> Path:
        self.close()
        if self._build_dir is not None:  # a previous index() of this object; nothing else points there
            shutil.rmtree(self._build_dir, ignore_errors=True)
        self._lucene_dir = None
        build = self._build_dir = Path(tempfile.mkdtemp(prefix=f"xlir-{self.name}-"))
        weakref.finalize(self, shutil.rmtree, build, True)
        return build

    def _run_indexer(self, args: list[str], records: Iterator[tuple[str, str]]) -> int:
        """Feed ``(docid, contents)`` records to Anserini's SimpleIndexer; returns how many it indexed."""
        from xlir.lucene_jvm import jclass

        indexer = jclass("io.anserini.index.SimpleIndexer")(args)
        sent = added = 0
        try:
            batch: list[str] = []
            for docid, contents in records:
                batch.append(_doc_json(docid, contents))
                if len(batch) >= _DOC_BATCH:
                    added += indexer.addRawDocuments(batch)
                    sent += len(batch)
                    batch = []
            if batch:
                added += indexer.addRawDocuments(batch)
                sent += len(batch)
        finally:
            indexer.close(True)  # commit, merged into one segment
        if added != sent:
            raise LuceneIndexError(
                f"{self.name}: Lucene indexed {added} of {sent} documents; the JVM's stderr above says why"
            )
        return added

    # -- searching ---------------------------------------------------------------------
    def _open_searcher(self):
        raise NotImplementedError

    @property
    def searcher(self):
        """The Anserini searcher over this index (opened on first use; starts the JVM)."""
        self._require_index()
        if self._searcher is None:
            if self._lucene_dir is None:
                raise IndexFormatError(f"{self.name}: no Lucene directory")
            self._searcher = self._open_searcher()
        return self._searcher

    @property
    def docs_indexed(self) -> int:
        """Documents in the Lucene index (empty documents are kept in the doc store only)."""
        return int(self._lucene_info.get("docs_indexed", self.doc_count))

    def close(self) -> None:
        """Release the Java searcher (its open files); the retriever reopens it when searching again."""
        if self._searcher is not None:
            try:
                self._searcher.close()
            except Exception:  # noqa: BLE001  (closing twice, JVM shutting down)
                pass
            self._searcher = None

    @staticmethod
    def _collect(results, run: Run, scale: float = 1.0) -> None:
        for entry in results.entrySet().toArray():
            hits = entry.getValue()
            run[str(entry.getKey())] = {str(h.docid): float(h.score) / scale for h in hits}

    # -- persistence -------------------------------------------------------------------
    def manifest_extra(self) -> dict[str, Any]:
        return {"lucene": dict(self._lucene_info)}

    def _save_arrays(self, folder: Path) -> dict[str, dict]:
        if self._lucene_dir is None or not self._lucene_dir.is_dir():
            raise IndexFormatError(f"{self.name}: the Lucene directory {self._lucene_dir} is gone")
        dest = folder / LUCENE_DIR
        dest.mkdir()
        files = {}
        for src in sorted(self._lucene_dir.iterdir()):
            if src.name == "write.lock" or not src.is_file():
                continue
            _link_or_copy(src, dest / src.name)
            files[f"{LUCENE_DIR}/{src.name}"] = {"kind": "lucene", "bytes": (dest / src.name).stat().st_size}
        return files

    def _load_arrays(self, folder: Path, manifest: dict, *, mmap: bool) -> None:
        lucene = folder / LUCENE_DIR
        if not lucene.is_dir() or not any(n.startswith(f"{LUCENE_DIR}/segments_") for n in manifest["files"]):
            raise IndexFormatError(f"{folder}: corrupt index (no Lucene index in {LUCENE_DIR}/)")
        self._lucene_dir = lucene  # Lucene memory-maps its own files (MMapDirectory)
        self._lucene_info = dict(manifest.get("lucene") or {})
        self._searcher = None


# ========================================================================================
# lucene-bm25


@dataclass(frozen=True)
class LuceneBM25Params:
    """``lang``: index language (Anserini's analyzer for it); ``k1``, ``b``: BM25; ``rm3`` and
    ``rm3_*``: RM3 query expansion (needs document vectors, stored when ``rm3``);
    ``threads``: search threads; ``index_threads``: indexing threads."""

    lang: str = "en"
    k1: float = 0.9
    b: float = 0.4
    rm3: bool = False
    rm3_fb_terms: int = 10
    rm3_fb_docs: int = 10
    rm3_original_query_weight: float = 0.5
    threads: int = 1
    index_threads: int = 1
    store_text: bool = True

    def validate(self) -> None:
        lucene_analyzer(self.lang)
        if self.k1 < 0:
            raise ParamError(f"k1 must be >= 0, got {self.k1}")
        if not 0 <= self.b <= 1:
            raise ParamError(f"b must be in [0, 1], got {self.b}")
        if self.rm3_fb_terms < 1 or self.rm3_fb_docs < 1:
            raise ParamError("rm3_fb_terms and rm3_fb_docs must be >= 1")
        if not 0 <= self.rm3_original_query_weight <= 1:
            raise ParamError(f"rm3_original_query_weight must be in [0, 1], got {self.rm3_original_query_weight}")
        if self.threads < 1 or self.index_threads < 1:
            raise ParamError("threads and index_threads must be >= 1")


class LuceneBM25Retriever(_LuceneRetriever):
    """Lucene BM25 through Anserini, with Anserini's analyzer for the index language."""

    name = "lucene-bm25"
    Params = LuceneBM25Params

    @property
    def spec(self) -> AnalyzerSpec:
        return lucene_analyzer(self.params.lang)

    def index(self, docs: Iterable[Doc], *, show_progress: bool | None = False) -> None:
        """Analyze and index ``docs`` with Anserini's SimpleIndexer (replacing any previous content)."""
        from xlir.lucene_jvm import start_jvm

        spec = self.spec
        _warn_fallback(spec, self.name)
        _java_analyzer(spec)  # fails early (Thai on a runtime without Thai data) before any work
        info = start_jvm()
        build = self._new_build_dir()
        args = ["-index", str(build), "-language", spec.lang, "-threads", str(self.params.index_threads),
                "-input", "", "-collection", "JsonCollection"]
        if spec.pretokenized:
            args.append("-pretokenized")
        if self.params.rm3:
            args.append("-storeDocvectors")
        writer = self._new_docstore()

        def records():
            for doc in progress(docs, show_progress=show_progress, desc="lucene index", unit="doc"):
                writer.add(doc)
                text = doc.contents
                if text.strip():  # Anserini rejects empty documents; they stay in the doc store
                    yield doc.id, text

        added = self._run_indexer(args, records())
        self._finish_docstore(writer)
        self._lucene_dir = build
        self._lucene_info = {
            "directory": LUCENE_DIR, **_versions(info), "analyzer": spec.config(), "docs_indexed": added,
            "docvectors": self.params.rm3,
        }
        logger.info("indexed %d documents with Lucene (%s)", added, spec.java_class)

    def _open_searcher(self):
        from xlir.lucene_jvm import jclass

        searcher = jclass("io.anserini.search.SimpleSearcher")(str(self._lucene_dir))
        searcher.set_bm25(float(self.params.k1), float(self.params.b))
        return searcher

    def _query_analyzer(self, lang: str | None):
        spec = lucene_analyzer(lang) if lang else self.spec
        if spec.lang not in self._analyzers:
            if spec.lang != self.spec.lang:  # the index language's fallback was reported when indexing
                _warn_fallback(spec, f"{self.name} queries")
            self._analyzers[spec.lang] = (spec, _java_analyzer(spec))
        return self._analyzers[spec.lang]

    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False) -> Run:
        """Top-``k`` documents per query as a :data:`Run` (queries matching nothing get ``{}``)."""
        self._require_index()
        if k < 1:
            raise ParamError(f"k must be >= 1, got {k}")
        built = self._lucene_info.get("analyzer")
        if built and built.get("class") != self.spec.java_class:
            logger.warning("%s: the index was analyzed with %s, queries in %r now use %s", self.name,
                           built.get("class"), self.params.lang, self.spec.java_class)
        run: Run = {}
        if not queries or self.docs_indexed == 0:
            return {q.id: {} for q in queries}
        groups: dict[str, list[Query]] = {}
        for q in queries:
            groups.setdefault(q.lang or self.params.lang, []).append(q)
        searcher = self.searcher
        p = self.params
        chunks = [(lang, qs[i : i + _QUERY_BATCH]) for lang, qs in groups.items()
                  for i in range(0, len(qs), _QUERY_BATCH)]
        current = None
        for lang, chunk in progress(chunks, show_progress=show_progress, desc="lucene search", unit="batch"):
            spec, analyzer = self._query_analyzer(lang)
            if current != spec.lang:
                searcher.set_analyzer(analyzer)
                if p.rm3:  # Anserini's Rm3Reranker keeps the analyzer it was created with
                    searcher.set_rm3(None, int(p.rm3_fb_terms), int(p.rm3_fb_docs),
                                     float(p.rm3_original_query_weight), False, spec.english)
                current = spec.lang
            texts, qids = _jlist(q.text for q in chunk), _jlist(q.id for q in chunk)
            results = searcher.batch_search(texts, qids, int(k), int(p.threads))
            self._collect(results, run)
        return {q.id: run.get(q.id, {}) for q in queries}


# ========================================================================================
# lucene-impact


def quantize_weights(weights: dict[str, float], weight_range: float, quant_range: int) -> dict[str, int]:
    """``{term: round(w / weight_range * quant_range)}`` without the terms that round to 0 or less
    (Pyserini's SPLADE quantization; Python's round, half to even, as Pyserini's)."""
    factor = quant_range / weight_range
    out = {}
    for term, w in weights.items():
        q = int(round(float(w) * factor))
        if q > 0:
            out[term] = q
    return out


def _top_k(weights: dict[str, float], k: int) -> dict[str, float]:
    if k <= 0 or len(weights) <= k:
        return weights
    return dict(sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:k])


def _pseudo_text(impacts: dict[str, int]) -> str:
    # Anserini's JsonVectorCollection: each term repeated by its impact, whitespace-tokenized
    parts = []
    for term, q in impacts.items():
        if not term or any(c.isspace() for c in term) or len(term) > 255:
            raise InputError(
                f"term {term!r} cannot go into a Lucene impact index (empty, whitespace, or over 255 characters)"
            )
        parts.append((term + " ") * q)
    return "".join(parts)


@dataclass(frozen=True)
class LuceneImpactParams:
    """``model``/``query_model``/``backend``/``device``/``batch_size``/``max_length``/
    ``query_max_length``: xlir's SPLADE encoder when none is passed as ``encoder=``;
    ``doc_top_k``/``query_top_k``: keep that many heaviest terms (0: all); ``weight_range``,
    ``quant_range``: integer impacts ``round(w / weight_range * quant_range)``;
    ``chunk_size``: documents encoded at a time; ``threads``/``index_threads``: Lucene threads."""

    lang: str | None = None
    model: str = "splade-tiny"
    query_model: str | None = None
    backend: str = "auto"
    device: str = "auto"
    batch_size: int = 32
    max_length: int = 256
    query_max_length: int = 64
    doc_top_k: int = 0
    query_top_k: int = 0
    weight_range: float = 5.0
    quant_range: int = 256
    chunk_size: int = 4096
    threads: int = 1
    index_threads: int = 1
    store_text: bool = True

    def validate(self) -> None:
        if self.lang not in (None, ""):
            from xlir.analysis import normalize_lang

            normalize_lang(self.lang)
        if self.weight_range <= 0 or self.quant_range < 1:
            raise ParamError("weight_range must be > 0 and quant_range >= 1")
        for name in ("doc_top_k", "query_top_k"):
            if getattr(self, name) < 0:
                raise ParamError(f"{name} must be >= 0 (0 keeps every term)")
        for name in ("batch_size", "max_length", "query_max_length", "chunk_size", "threads", "index_threads"):
            if getattr(self, name) < 1:
                raise ParamError(f"{name} must be >= 1")


# fixed when the index is built; load() refuses to override them
_IMPACT_INDEX_PARAMS = ("lang", "model", "doc_top_k", "weight_range", "quant_range", "max_length", "store_text")
# encoder identity entries that may differ between indexing and searching
_VOLATILE_IDENTITY = ("device", "batch_size")


class LuceneImpactRetriever(_LuceneRetriever):
    """Learned sparse term weights in a Lucene impact index (Anserini's ``SimpleImpactSearcher``)."""

    name = "lucene-impact"
    Params = LuceneImpactParams

    def __init__(self, params: LuceneImpactParams | None = None, *, encoder=None, **kwargs):
        super().__init__(params, **kwargs)
        self._encoder = encoder
        self.identity: dict[str, Any] | None = None

    @property
    def encoder(self):
        """The sparse encoder (xlir's SPLADE encoder for ``model`` unless one was passed)."""
        if self._encoder is None:
            from xlir.encoders.sparse import SpladeEncoder

            p = self.params
            self._encoder = SpladeEncoder(
                p.model, query_model=p.query_model, backend=p.backend, device=p.device,
                batch_size=p.batch_size, max_length=p.max_length, query_max_length=p.query_max_length,
            )
        return self._encoder

    @property
    def scale(self) -> float:
        """Integer impact units per unit of weight (``quant_range / weight_range``)."""
        return self.params.quant_range / self.params.weight_range

    def encoder_identity(self) -> dict[str, Any]:
        enc = self.encoder
        if hasattr(enc, "identity"):
            ident = dict(enc.identity())
        else:
            ident = {"class": f"{type(enc).__module__}.{type(enc).__qualname__}"}
        return {k: v for k, v in ident.items() if k not in _VOLATILE_IDENTITY}

    def _vectors(self, texts: list[str], side: str, top_k: int) -> list[dict[str, float]]:
        enc = self.encoder
        out = enc.encode_docs(texts) if side == "docs" else enc.encode_queries(texts)
        if hasattr(out, "to_dicts"):
            out = out.to_dicts(enc.vocab)
        out = list(out)
        if len(out) != len(texts):
            raise XlirError(f"the encoder returned {len(out)} vectors for {len(texts)} texts")
        return [_top_k(dict(v), top_k) for v in out]

    def index(self, docs: Iterable[Doc], *, show_progress: bool | None = False) -> None:
        """Encode ``docs``, quantize their term weights and index them in Lucene (replacing any previous content)."""
        from xlir.lucene_jvm import start_jvm

        p = self.params
        identity = self.encoder_identity()
        info = start_jvm()
        build = self._new_build_dir()
        args = ["-index", str(build), "-impact", "-pretokenized", "-threads", str(p.index_threads),
                "-input", "", "-collection", "JsonCollection"]
        writer = self._new_docstore()
        stats = {"postings": 0, "empty_docs": 0}

        def chunks() -> Iterator[list[Doc]]:
            chunk: list[Doc] = []
            for doc in docs:
                writer.add(doc)
                chunk.append(doc)
                if len(chunk) >= p.chunk_size:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk

        def records():
            for chunk in progress(chunks(), show_progress=show_progress, desc="lucene-impact encode", unit="chunk"):
                vectors = self._vectors([d.contents for d in chunk], "docs", p.doc_top_k)
                for doc, vec in zip(chunk, vectors):
                    impacts = quantize_weights(vec, p.weight_range, p.quant_range)
                    if not impacts:
                        stats["empty_docs"] += 1
                        continue
                    stats["postings"] += len(impacts)
                    yield doc.id, _pseudo_text(impacts)

        added = self._run_indexer(args, records())
        self._finish_docstore(writer)
        if p.lang:
            self.languages = sorted(set(self.languages) | {p.lang})
        self._lucene_dir = build
        self._lucene_info = {
            "directory": LUCENE_DIR, **_versions(info), "docs_indexed": added, "impact": True,
            "quantization": {"method": "round(w / weight_range * quant_range)", "weight_range": p.weight_range,
                             "quant_range": p.quant_range},
            "postings": stats["postings"], "docs_without_terms": stats["empty_docs"],
        }
        self.identity = identity
        logger.info("indexed %d documents in a Lucene impact index (%d postings)", added, stats["postings"])

    def _open_searcher(self):
        from xlir.lucene_jvm import jclass

        return jclass("io.anserini.search.SimpleImpactSearcher")(str(self._lucene_dir))

    def query_impacts(self, queries: Sequence[Query]) -> list[dict[str, int]]:
        """Each query's quantized ``{term: impact}``, as searched."""
        p = self.params
        vectors = self._vectors([q.text for q in queries], "queries", p.query_top_k)
        return [quantize_weights(v, p.weight_range, p.quant_range) for v in vectors]

    def _check_encoder(self) -> None:
        built = self.identity
        if not built:
            return
        current = self.encoder_identity()
        if current != built:
            from xlir.retrievers.dense import EncoderMismatchError

            keys = sorted(k for k in set(built) | set(current) if built.get(k) != current.get(k))
            details = "; ".join(f"{k}: index {built.get(k)!r}, now {current.get(k)!r}" for k in keys)
            raise EncoderMismatchError(f"the index was built with a different sparse encoder ({details})")

    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False) -> Run:
        """Top-``k`` documents per query by dot product of quantized weights (scores divided by ``scale**2``)."""
        from xlir.lucene_jvm import jclass

        self._require_index()
        if k < 1:
            raise ParamError(f"k must be >= 1, got {k}")
        self._check_encoder()
        if not queries or self.docs_indexed == 0:
            return {q.id: {} for q in queries}
        searcher = self.searcher
        jmap, jint = jclass("java.util.HashMap"), jclass("java.lang.Integer")
        scale2 = self.scale**2
        run: Run = {}
        batches = range(0, len(queries), _QUERY_BATCH)
        for start in progress(batches, show_progress=show_progress, desc="lucene-impact search", unit="batch"):
            chunk = queries[start : start + _QUERY_BATCH]
            maps = _jlist([])
            for impacts in self.query_impacts(chunk):
                m = jmap()
                for term, q in impacts.items():
                    m.put(term, jint(q))
                maps.add(m)
            results = searcher.batch_search(maps, _jlist(q.id for q in chunk), int(k), int(self.params.threads))
            self._collect(results, run, scale2)
        return {q.id: run.get(q.id, {}) for q in queries}

    def manifest_extra(self) -> dict[str, Any]:
        return {**super().manifest_extra(), "encoder": self.identity}

    def _load_arrays(self, folder: Path, manifest: dict, *, mmap: bool) -> None:
        super()._load_arrays(folder, manifest, mmap=mmap)
        self.identity = manifest.get("encoder")

    @classmethod
    def load(cls, path, *, mmap: bool = True, encoder=None, **overrides):
        """Load an impact index; ``encoder`` replaces the default one (checked against the manifest when
        searching); ``overrides`` change search-time params (``query_top_k``, ``device``, ``threads``...)."""
        fixed = sorted(set(overrides) & set(_IMPACT_INDEX_PARAMS))
        if fixed:
            raise ParamError(f"{', '.join(fixed)} cannot change after indexing (rebuild the index instead)")
        self = super().load(path, mmap=mmap)
        if overrides:
            from xlir.params import make_params, params_to_dict

            self.params = make_params(LuceneImpactParams, params_to_dict(self.params) | overrides)
        if encoder is not None:
            self._encoder = encoder
        return self
