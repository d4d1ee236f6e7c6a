"""Retrieval pipelines: first stages (several, fused), query translation, a reranker, a cutoff.

A pipeline file (YAML or JSON) describes a whole system, so that one file reproduces it::

    name: bm25+e5-rrf                 # the run tag (default: the file's name)
    query_lang: en                    # the queries' language (--query-lang overrides it)
    stages:                           # one or more first stages; a stage is an index folder
      - index: indexes/news.bm25
        k: 1000                       # depth of this stage [default: max(k, rerank depth)]
        translate: query              # none | query [default: none]
        translator: table:queries.en-de.tsv   # NAME[:ARG], needed by translate: query
        translator_params: {}
      - indexes/news.e5               # a stage given by its index alone
    fusion: {method: rrf, rrf_k: 60}  # or {method: wsum, weights: [0.7, 0.3], norm: min-max}
    rerank: {name: "cross-encoder:models/ms-marco-mini", depth: 100, params: {}}
    k: 100                            # results per query in the final run

Relative paths (indexes, ``table:``/``ctranslate2:`` files, a reranker ARG that names an
existing path) are relative to the file's folder. ``fusion`` is needed only with two or
more stages (default RRF); ``rerank`` may be ``null``/``none``, ``NAME[:ARG]`` or a mapping.

:class:`Pipeline` runs a spec: each stage's index is loaded with :func:`xlir.load_index`
and wrapped in a :class:`~xlir.translate.TranslatingRetriever` (what ``xlir search
--translate-query`` does, language checks included); the stages' runs are fused with
:mod:`xlir.fusion`; the reranker rescores the top ``depth`` documents, reading the
documents from the stages' indexes (the first that holds each) and the queries as the
first stage searched them (translated when it translates them); documents below ``depth``
stay below in their fused order. Every run written by ``xlir search`` has a sidecar
``RUN.meta.json`` (see :func:`run_record`) whose ``pipeline`` block is itself a valid
pipeline file: ``xlir search --pipeline RUN.meta.json`` runs the same system again.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from xlir.errors import IndexFormatError, ParamError, XlirError
from xlir.fusion import FusionSpec, fuse_spec, ranked
from xlir.spec_checks import check_keys as _check_keys
from xlir.spec_checks import fail as _fail
from xlir.spec_checks import mapping as _mapping
from xlir.spec_checks import positive_int as _positive_int
from xlir.types import Doc, Query, Run

__all__ = [
    "StageSpec",
    "RerankSpec",
    "PipelineSpec",
    "Pipeline",
    "TRANSLATE_MODES",
    "META_SUFFIX",
    "RUN_META_FORMAT",
    "load_pipeline",
    "parse_pipeline",
    "cli_pipeline_spec",
    "parse_component_spec",
    "create_reranker",
    "rerank_run",
    "meta_path",
    "write_run_meta",
    "read_run_meta",
    "run_record",
    "file_sha256",
]

logger = logging.getLogger(__name__)

TRANSLATE_MODES = ("none", "query")
META_SUFFIX = ".meta.json"
RUN_META_FORMAT = "xlir.run-meta"
DEFAULT_K = 100
DEFAULT_RERANK_DEPTH = 100

_TOP_KEYS = ("name", "description", "query_lang", "stages", "fusion", "rerank", "k")
_STAGE_KEYS = ("index", "label", "k", "translate", "translator", "translator_params")
_FUSION_KEYS = ("method", "rrf_k", "weights", "norm")
_RERANK_KEYS = ("name", "params", "depth")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_TAG = re.compile(r"\S+")


# -- the spec -------------------------------------------------------------------------------
@dataclass(frozen=True)
class StageSpec:
    """A first stage: an index folder, its depth, and query translation in front of it."""

    index: Path
    label: str
    k: int | None = None
    translate: str = "none"
    translator: str | None = None  # NAME[:ARG], paths resolved
    translator_params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": str(self.index), "label": self.label}
        if self.k is not None:
            out["k"] = self.k
        out["translate"] = self.translate
        if self.translator is not None:
            out["translator"] = self.translator
        if self.translator_params:
            out["translator_params"] = dict(self.translator_params)
        return out


@dataclass(frozen=True)
class RerankSpec:
    """A reranker: registry ``name``, optional ``arg`` (model or folder), parameters, depth."""

    name: str
    arg: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    depth: int = DEFAULT_RERANK_DEPTH

    @property
    def spec(self) -> str:
        """``NAME[:ARG]``."""
        return self.name if self.arg is None else f"{self.name}:{self.arg}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.spec, "depth": self.depth}
        if self.params:
            out["params"] = dict(self.params)
        return out


@dataclass(frozen=True)
class PipelineSpec:
    """A validated pipeline. Build it with :func:`load_pipeline`, :func:`parse_pipeline` or directly."""

    stages: tuple[StageSpec, ...]
    fusion: FusionSpec | None = None
    rerank: RerankSpec | None = None
    k: int = DEFAULT_K
    query_lang: str | None = None
    name: str | None = None
    description: str = ""
    source: str | None = None  # the file it was read from

    def __post_init__(self):
        if not self.stages:
            raise ParamError("a pipeline needs at least one stage")
        if len(self.stages) > 1 and self.fusion is None:
            object.__setattr__(self, "fusion", FusionSpec())
        if len(self.stages) == 1 and self.fusion is not None:
            raise ParamError("fusion needs two or more stages")

    def stage_k(self, stage: StageSpec) -> int:
        """How many results a stage retrieves: its ``k``, else max(k, rerank depth)."""
        if stage.k is not None:
            return stage.k
        return max(self.k, self.rerank.depth if self.rerank else 0)

    @property
    def translates(self) -> bool:
        return any(s.translate == "query" for s in self.stages)

    def as_dict(self) -> dict[str, Any]:
        """The spec as a pipeline file (absolute paths, defaults filled in): loading it gives the same spec."""
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        if self.query_lang:
            out["query_lang"] = self.query_lang
        out["stages"] = [s.as_dict() for s in self.stages]
        if self.fusion is not None:
            out["fusion"] = self.fusion.as_dict()
        out["rerank"] = self.rerank.as_dict() if self.rerank else None
        out["k"] = self.k
        return out


# -- parsing and validation ------------------------------------------------------------------------


def parse_component_spec(spec: Any, what: str = "component") -> tuple[str, str | None]:
    """Split ``NAME[:ARG]`` into ``(name, arg)`` (only the first colon separates).

    Raises :class:`ParamError` for an empty or malformed name or an empty ARG.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ParamError(f"empty {what}; expected NAME or NAME:ARG")
    name, sep, arg = spec.strip().partition(":")
    if not _NAME.fullmatch(name):
        raise ParamError(f"bad {what} {spec!r}; expected NAME or NAME:ARG")
    if sep and not arg:
        raise ParamError(f"{what} {spec!r}: nothing after ':'; expected NAME:ARG")
    return name, (arg if sep else None)


def _resolve(path: str, base: Path) -> Path:
    p = Path(os.path.expanduser(path))
    return p if p.is_absolute() else base / p


def _translator_spec(value: Any, where: str, base: Path, source: str | None) -> str:
    from xlir.translate import parse_translator_spec

    if not isinstance(value, str):
        raise _fail(where, f"expected NAME[:ARG], got {value!r}", source)
    try:
        name, arg = parse_translator_spec(value)
    except XlirError as e:
        raise _fail(where, str(e), source) from None
    if arg is not None and name in ("table", "ctranslate2"):  # the translators whose ARG is a path
        arg = str(_resolve(arg, base))
    return name if arg is None else f"{name}:{arg}"


def _stage(item: Any, i: int, base: Path, source: str | None) -> StageSpec:
    w = f"stages[{i}]"
    if isinstance(item, (str, os.PathLike)):
        item = {"index": str(item)}
    item = _mapping(item, w, source)
    _check_keys(item, _STAGE_KEYS, w, source)
    index = item.get("index")
    if not isinstance(index, (str, os.PathLike)) or not str(index).strip():
        raise _fail(f"{w}.index", "missing: the path of an index folder (built with `xlir index`)", source)
    path = _resolve(str(index), base)
    label = item.get("label", path.name)
    if not isinstance(label, str) or not _TAG.fullmatch(label):
        raise _fail(f"{w}.label", f"expected a name without spaces, got {label!r}", source)
    k = item.get("k")
    if k is not None:
        k = _positive_int(k, f"{w}.k", source)
    translate = item.get("translate", "none")
    if translate in (None, False):
        translate = "none"
    if translate not in TRANSLATE_MODES:
        raise _fail(f"{w}.translate", f"expected one of {', '.join(TRANSLATE_MODES)}, got {translate!r} "
                    "(document translation happens at indexing: `xlir index --translate-docs`)", source)
    translator = item.get("translator")
    if translator is not None:
        translator = _translator_spec(translator, f"{w}.translator", base, source)
    if translate == "query" and translator is None:
        raise _fail(f"{w}.translator", "translate: query needs a translator, e.g. table:FILE or ctranslate2:DIR", source)
    if translate == "none" and translator is not None:
        raise _fail(f"{w}.translator", "a translator is given but translate is none; set translate: query", source)
    params = _mapping(item.get("translator_params"), f"{w}.translator_params", source)
    if params and translator is None:
        raise _fail(f"{w}.translator_params", "translator parameters without a translator", source)
    return StageSpec(path, label, k, translate, translator, params)


def _fusion(raw: Any, stages: int, source: str | None) -> FusionSpec | None:
    if raw is None:
        return FusionSpec() if stages > 1 else None
    if stages < 2:
        raise _fail("fusion", "fusion needs two or more stages; remove it or add a stage", source)
    if isinstance(raw, str):
        raw = {"method": raw}
    raw = _mapping(raw, "fusion", source)
    _check_keys(raw, _FUSION_KEYS, "fusion", source)
    norm = raw.get("norm")
    try:
        return FusionSpec.create(raw.get("method", "rrf"), rrf_k=raw.get("rrf_k", 60), weights=raw.get("weights"),
                                 norm=norm, runs=stages)
    except ParamError as e:
        raise _fail("fusion", str(e), source) from None


def _rerank(raw: Any, base: Path, source: str | None) -> RerankSpec | None:
    if raw is None or raw is False or raw == "none":
        return None
    if isinstance(raw, str):
        raw = {"name": raw}
    raw = _mapping(raw, "rerank", source)
    _check_keys(raw, _RERANK_KEYS, "rerank", source)
    try:
        name, arg = parse_component_spec(raw.get("name"), "reranker")
    except ParamError as e:
        raise _fail("rerank.name", f"{e} (a registered reranker, see `xlir list`)", source) from None
    if arg is not None and _resolve(arg, base).exists():
        arg = str(_resolve(arg, base))  # a model or adapter folder; a model name stays as written
    depth = _positive_int(raw.get("depth", DEFAULT_RERANK_DEPTH), "rerank.depth", source)
    params = _mapping(raw.get("params"), "rerank.params", source)
    return RerankSpec(name, arg, params, depth)


def parse_pipeline(raw: Any, *, base_dir: str | os.PathLike = ".", source: str | None = None) -> PipelineSpec:
    """Validate a pipeline mapping (a pipeline file's content, or a run's ``.meta.json``).

    Relative paths are resolved against ``base_dir``. Raises :class:`ParamError` that names
    ``source`` and the offending key (``stages[1].translate: ...``).
    """
    if isinstance(raw, Mapping) and raw.get("format") == RUN_META_FORMAT:
        raw = raw.get("pipeline")  # a run's sidecar: run the pipeline that made it
    if not isinstance(raw, Mapping):
        raise _fail("(top level)", f"expected a mapping, got {type(raw).__name__}", source)
    _check_keys(raw, _TOP_KEYS, "(top level)", source)
    base = Path(base_dir)
    stages_raw = raw.get("stages")
    if not isinstance(stages_raw, list) or not stages_raw:
        raise _fail("stages", "expected a non-empty list of first stages, e.g. [{index: indexes/news.bm25}]", source)
    stages = [_stage(item, i, base, source) for i, item in enumerate(stages_raw)]
    labels = [s.label for s in stages]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise _fail("stages", f"duplicate label(s) {', '.join(dupes)}; give each stage its own 'label'", source)
    fusion = _fusion(raw.get("fusion"), len(stages), source)
    rerank = _rerank(raw.get("rerank"), base, source)
    k = _positive_int(raw.get("k", DEFAULT_K), "k", source)
    query_lang = raw.get("query_lang")
    if query_lang is not None and (not isinstance(query_lang, str) or not query_lang.strip()):
        raise _fail("query_lang", f"expected a language code, got {query_lang!r}", source)
    name = raw.get("name")
    if name is None and source:
        name = Path(source).name.split(".")[0]
    if name is not None and (not isinstance(name, str) or not _TAG.fullmatch(name)):
        raise _fail("name", f"expected a run tag without spaces, got {name!r}", source)
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise _fail("description", f"expected text, got {description!r}", source)
    return PipelineSpec(tuple(stages), fusion, rerank, k, query_lang, name, description, source)


def load_pipeline(path: str | os.PathLike) -> PipelineSpec:
    """Read a YAML (``.yaml``/``.yml``; needs PyYAML) or JSON pipeline file and validate it.

    A run's sidecar (``RUN.meta.json``) is accepted too. Raises :class:`InputError` for a
    missing or unparsable file (with the line) and :class:`ParamError` for an invalid spec.
    """
    from xlir.io._files import read_config_file

    p, raw = read_config_file(path, "pipeline")
    return parse_pipeline(raw, base_dir=p.resolve().parent, source=str(p))


def cli_pipeline_spec(
    index: str | os.PathLike,
    *,
    k: int = DEFAULT_K,
    translator: str | None = None,
    translator_params: Mapping[str, Any] | None = None,
    rerank: str | None = None,
    rerank_params: Mapping[str, Any] | None = None,
    rerank_depth: int = DEFAULT_RERANK_DEPTH,
    query_lang: str | None = None,
    name: str | None = None,
) -> PipelineSpec:
    """The one-stage pipeline of ``xlir search INDEX [--translate-query ...] [--rerank ...]``,
    with paths resolved against the current folder (what the run record stores)."""
    stage: dict[str, Any] = {"index": str(Path(index).resolve()), "label": "_".join(Path(index).name.split()) or "index"}
    if translator is not None:
        stage.update(translate="query", translator=translator, translator_params=dict(translator_params or {}))
    raw: dict[str, Any] = {"stages": [stage], "k": k, "query_lang": query_lang, "name": name}
    if rerank is not None:
        raw["rerank"] = {"name": rerank, "depth": rerank_depth, "params": dict(rerank_params or {})}
    return parse_pipeline(raw, base_dir=Path.cwd().resolve())


# -- running ------------------------------------------------------------------------------------------
def create_reranker(name: str, arg: str | None = None, **params: Any):
    """The reranker ``name`` from :data:`xlir.registry.RERANKERS`, given ``arg`` (its model or
    folder) as first argument when set. Raises :class:`UnknownComponentError` or
    :class:`MissingDependencyError` (with the ``pip install`` to run)."""
    from xlir.registry import RERANKERS

    if arg is None:
        return RERANKERS.create(name, **params)
    return RERANKERS.get(name)(arg, **params)


class _Docs:
    """Looks a document up in each stage's index in turn (fused stages may hold different documents)."""

    def __init__(self, stores: list[Any]):
        self.stores = [s for s in stores if s is not None]

    def __getitem__(self, docid: str) -> Doc:
        for store in self.stores:
            try:
                return store[docid]
            except (KeyError, IndexError):
                continue
        raise KeyError(f"document {docid!r} is in no index of the pipeline")

    def __contains__(self, docid: str) -> bool:
        try:
            self[docid]
        except KeyError:
            return False
        return True


def rerank_run(reranker: Any, queries: Sequence[Query], run: Run, docs: Any, *, depth: int, k: int | None = None,
               show_progress: bool | None = False) -> Run:
    """``reranker`` over the top ``depth`` of ``run``; documents it leaves out stay below in
    their order; the top ``k`` per query when ``k`` is set."""
    reranked = reranker.rerank(queries, run, docs, depth=depth, show_progress=show_progress)
    out = _keep_tail(run, reranked)
    return _cut(out, k) if k is not None else out


def _describe_component(obj: Any, default_name: str) -> dict[str, Any]:
    """``obj.describe()`` when it has one, else its name, identity and parameters (methods or attributes)."""
    def value(attr: str) -> Any:
        v = getattr(obj, attr, None)
        return v() if callable(v) else v

    described = value("describe")
    if isinstance(described, Mapping):
        return dict(described)
    params = getattr(obj, "params", None)
    out = {"name": getattr(obj, "name", default_name), "identity": value("identity")}
    if out["identity"] is None and dataclasses.is_dataclass(params):
        out["params"] = dataclasses.asdict(params)
    return out


def _keep_tail(before: Run, after: Run) -> Run:
    """``after`` with every document of ``before`` that the reranker left out appended below, in order."""
    out: Run = {}
    for qid in set(before) | set(after):
        new = dict(after.get(qid) or {})
        missing = [d for d, _ in ranked(before.get(qid) or {}) if d not in new]
        if missing:
            floor = min(new.values(), default=0.0)
            for i, d in enumerate(missing, 1):
                new[d] = floor - i
        out[qid] = new
    return out


def _cut(run: Run, k: int) -> Run:
    return {qid: dict(ranked(docs)[:k]) for qid, docs in run.items()}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Pipeline:
    """Runs a :class:`PipelineSpec`; open it once, search many query batches, then :meth:`close`.

    ``translation_cache``: the translation cache folder (None: ``$XLIR_HOME``);
    ``no_translation_cache``: do not use one; ``allow_lang_mismatch``: search indexes of
    translated documents with queries in another language anyway (a warning).
    """

    def __init__(
        self,
        spec: PipelineSpec,
        *,
        translation_cache: str | os.PathLike | None = None,
        no_translation_cache: bool = False,
        allow_lang_mismatch: bool = False,
        mmap: bool = True,
        stages: Sequence[Any] | None = None,
    ):
        if stages is not None and len(stages) != len(spec.stages):
            raise ValueError(f"{len(stages)} opened stages for a pipeline of {len(spec.stages)}")
        self.spec = spec
        self.translation_cache = Path(translation_cache) if translation_cache is not None else None
        self.no_translation_cache = no_translation_cache
        self.allow_lang_mismatch = allow_lang_mismatch
        self.mmap = mmap
        # stages opened by the caller (``xlir search INDEX`` wraps its index itself): not closed here
        self._stages: list[Any] | None = list(stages) if stages is not None else None
        self._owned = stages is None
        self._cache: Any = None
        self._reranker: Any = None
        self.timings: dict[str, Any] = {}

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _where(self, i: int) -> str:
        return f"{self.spec.source + ': ' if self.spec.source else ''}stages[{i}].index"

    def _cache_for(self, translator: Any):
        if self.no_translation_cache or not getattr(translator, "cacheable", True):
            return None
        from xlir.translate import TranslationCache
        from xlir.translate.cache import CACHE_FILE

        if self._cache is None:  # one connection for every stage that translates
            self._cache = TranslationCache(self.translation_cache / CACHE_FILE if self.translation_cache is not None
                                           else None)
        return self._cache

    def open(self, query_lang: str | None = None) -> list[Any]:
        """Load every stage's index (once) and wrap it for query translation; returns the wrapped stages."""
        if self._stages is not None:
            return self._stages
        from xlir.store import load_index
        from xlir.translate import TranslatingRetriever, get_translator

        stages = []
        loaded: dict[Path, Any] = {}  # stages over the same index share it
        for i, stage in enumerate(self.spec.stages):
            key = Path(stage.index).resolve()
            if key not in loaded:
                try:
                    loaded[key] = load_index(stage.index, mmap=self.mmap)
                except IndexFormatError as e:
                    raise IndexFormatError(f"{self._where(i)}: {e}") from None
            retriever = loaded[key]
            translator = cache = None
            if stage.translate == "query":
                translator = get_translator(stage.translator, **stage.translator_params)
                cache = self._cache_for(translator)
            stages.append(TranslatingRetriever(
                retriever, translator, translate_queries=stage.translate == "query", query_lang=query_lang,
                cache=cache, allow_lang_mismatch=self.allow_lang_mismatch,
            ))
        self._stages = stages
        return stages

    @property
    def reranker(self) -> Any:
        """The reranker instance (created on first use), or None."""
        if self._reranker is None and self.spec.rerank is not None:
            r = self.spec.rerank
            start = time.perf_counter()
            self._reranker = create_reranker(r.name, r.arg, **r.params)
            logger.info("loaded reranker %s in %.1fs", r.spec, time.perf_counter() - start)
        return self._reranker

    @property
    def docs(self) -> _Docs:
        """Document look-up over the stages' indexes (call :meth:`open` or :meth:`search` first)."""
        return _Docs([getattr(s, "docs", None) for s in self.open()])

    def search(self, queries: Sequence[Query], *, query_lang: str | None = None,
               show_progress: bool | None = False) -> Run:
        """Run the pipeline on ``queries``; returns the final run (top ``k`` per query).

        ``query_lang``: the language of queries without one. Per-stage runs and timings
        are kept in :attr:`stage_runs` and :attr:`timings`.
        """
        spec = self.spec
        stages = self.open(query_lang)
        reranker = self.reranker  # an unknown reranker or a missing model fails before the first stage runs
        if query_lang:
            queries = [q if q.lang else Query(q.id, q.text, query_lang) for q in queries]
        runs: list[Run] = []
        prepared_first: list[Query] | None = None
        stage_s = []
        for i, (stage_spec, stage) in enumerate(zip(spec.stages, stages)):
            start = time.perf_counter()
            prepared = stage.prepare_queries(queries, show_progress=show_progress)
            if i == 0:
                prepared_first = prepared
            runs.append(stage.retriever.search(prepared, k=spec.stage_k(stage_spec), show_progress=show_progress))
            stage_s.append(time.perf_counter() - start)
            logger.info("stage %s: %d queries in %.2fs", stage_spec.label, len(queries), stage_s[-1])
        self.stage_runs = runs
        self.timings = {"stages_s": stage_s}
        run = runs[0]
        if len(runs) > 1:
            start = time.perf_counter()
            run = fuse_spec(runs, spec.fusion)
            self.timings["fusion_s"] = time.perf_counter() - start
        if reranker is not None:
            start = time.perf_counter()
            depth = spec.rerank.depth
            run = rerank_run(reranker, prepared_first, run, self.docs, depth=depth, show_progress=show_progress)
            self.timings["rerank_s"] = time.perf_counter() - start
            logger.info("reranked the top %d with %s in %.2fs", depth, spec.rerank.spec, self.timings["rerank_s"])
        return _cut(run, spec.k)

    def describe(self) -> dict[str, Any]:
        """What a run record says about the pipeline: the spec, each stage's index identity
        (its manifest and the manifest's digest) and translator, the reranker."""
        from xlir.store import MANIFEST
        from xlir.translate import describe_translator

        stages = []
        for stage_spec, stage in zip(self.spec.stages, self.open()):
            manifest = getattr(stage.retriever, "manifest", None) or {}
            keep = ("retriever", "params", "doc_count", "languages", "encoder", "translation", "xlir_version",
                    "created_utc")
            mpath = Path(stage_spec.index) / MANIFEST
            stages.append({
                "label": stage_spec.label,
                "index": str(Path(stage_spec.index).resolve()),
                "manifest": {key: manifest[key] for key in keep if key in manifest},
                "manifest_sha256": file_sha256(mpath) if mpath.is_file() else None,
                "translator": describe_translator(stage.translator) if stage.translator is not None else None,
            })
        reranker = None
        if self.spec.rerank is not None and self._reranker is not None:
            reranker = _describe_component(self._reranker, self.spec.rerank.name)
        return {"stages": stages, "reranker": reranker}

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        if self._owned:
            for retriever in {id(s.retriever): s.retriever for s in self._stages or []}.values():
                if hasattr(retriever, "close"):
                    retriever.close()
            self._stages = None


# -- run records ------------------------------------------------------------------------------------
def meta_path(run_path: str | os.PathLike) -> Path:
    """The sidecar of a run file: ``RUN.meta.json`` next to it (``run.trec`` -> ``run.trec.meta.json``)."""
    p = Path(run_path)
    return p.with_name(p.name + META_SUFFIX)


def run_record(*, tag: str, pipeline: Pipeline | None = None, queries: Mapping[str, Any] | None = None,
               extra: Mapping[str, Any] | None = None, argv: Sequence[str] | None = None) -> dict[str, Any]:
    """A run's record: format, xlir version, time, the command, the resolved pipeline (a
    valid pipeline file under ``pipeline``), its indexes' identity, queries, timings."""
    from xlir import __version__

    record: dict[str, Any] = {
        "format": RUN_META_FORMAT,
        "format_version": 1,
        "tag": tag,
        "xlir_version": __version__,
        "created_utc": _now(),
    }
    if argv is not None:
        record["command"] = list(argv)
    if pipeline is not None:
        spec = pipeline.spec
        record["pipeline"] = spec.as_dict()
        if spec.source:
            src = Path(spec.source)
            record["pipeline_file"] = {"path": str(src.resolve()),
                                       "sha256": file_sha256(src) if src.is_file() else None}
        record.update(pipeline.describe())
        record["timings"] = dict(pipeline.timings)
    if queries is not None:
        record["queries"] = dict(queries)
    if extra:
        record.update(extra)
    return record


def write_run_meta(run_path: str | os.PathLike, record: Mapping[str, Any]) -> Path:
    """Write ``record`` atomically as the run's sidecar; returns its path."""
    from xlir.io import atomic_write_text

    path = meta_path(run_path)
    atomic_write_text(path, json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def read_run_meta(run_path: str | os.PathLike) -> dict[str, Any] | None:
    """A run's sidecar as a dict, or None when it has none (or it is not valid JSON)."""
    path = meta_path(run_path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
