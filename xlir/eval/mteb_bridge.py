"""Run xlir retrievers as mteb models, and write mteb result files.

mteb 2.x evaluates a retrieval task by calling a model that implements its search
protocol (``mteb.models.SearchProtocol``, ``mteb/models/models_protocols.py``)::

    model.index(corpus, task_metadata=..., hf_split=..., hf_subset=..., encode_kwargs=..., num_proc=...)
    model.search(queries, task_metadata=..., hf_split=..., hf_subset=..., top_k=..., encode_kwargs=...,
                 top_ranked=..., num_proc=...)  # -> {qid: {docid: score}}

once per (subset, split), in that order (``mteb/_evaluators/retrieval_evaluator.py``), and
scores the returned run with pytrec_eval. :class:`XlirSearchModel` implements that
protocol: ``index`` builds a fresh xlir retriever for the subset, in the corpus language
the task metadata declares, and ``search`` answers the queries with it.

:func:`run_mteb` runs models on tasks through ``mteb.evaluate`` and writes mteb's result
files (``TaskResult`` JSON) to ``OUTPUT/results/{org}__{name}/{revision}/{Task}.json``,
the layout of ``mteb.ResultCache``, which loads them back.

Needs ``mteb`` (``pip install "xlir[bench]"``).
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from xlir.errors import MissingDependencyError, ParamError, UnknownLanguageError, XlirError
from xlir.types import Doc, Query, Run

try:
    import mteb
    from mteb.models import ModelMeta
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError(
        f'the MTEB bridge needs mteb ({e.name or e}), which is not installed; run: pip install "xlir[bench]"'
    ) from e

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.results import ModelResult

    from xlir.protocols import Retriever

__all__ = [
    "TaskContext",
    "XlirSearchModel",
    "run_mteb",
    "result_path",
    "mteb_lang_to_iso",
    "subset_languages",
]

logger = logging.getLogger(__name__)

#: Individual ISO 639-3 codes mteb uses where xlir knows the macrolanguage.
_INDIVIDUAL_TO_MACRO = {"arb": "ar", "ary": "ar", "arz": "ar", "apc": "ar", "acm": "ar", "zsm": "ms"}
#: Retriever parameters that change how an index is built, not what it returns; they do
#: not name an experiment in mteb's result folders.
_OPERATIONAL_PARAMS = frozenset({"device", "batch_size", "chunk_size", "store_text"})
#: What mteb's ModelMeta records about each built-in retriever.
_KNOWN_RETRIEVERS: dict[str, dict[str, Any]] = {
    "bm25": {"framework": ["NumPy"], "model_type": ["sparse"], "n_parameters": 0},
    "dense": {"framework": ["Sentence Transformers", "PyTorch"], "model_type": ["dense"],
              "similarity_fn_name": "cosine"},
}


def mteb_lang_to_iso(code: str) -> str | None:
    """The ISO 639-1 code xlir uses for an mteb language (``eng-Latn`` -> ``en``), or ``None``.

    ``None`` means xlir has no analyzer for it (e.g. ``python-Code``).
    """
    from xlir.analysis import normalize_lang

    lang = code.split("-", 1)[0].lower()
    lang = _INDIVIDUAL_TO_MACRO.get(lang, lang)
    try:
        return normalize_lang(lang)
    except UnknownLanguageError:
        return None


def subset_languages(task_metadata: "TaskMetadata", hf_subset: str) -> tuple[str | None, str]:
    """``(query_lang, doc_lang)`` of one subset of an mteb task, as xlir language codes.

    mteb lists a subset's languages as ``eval_langs[hf_subset]`` (or ``eval_langs`` for a
    task without subsets). One language: queries and documents are in it. Two: mteb's
    cross-lingual convention, ``[query language, document language]`` (``eng-deu`` ->
    ``["eng-Latn", "deu-Latn"]``, ``eng-Latn`` -> ``python-Code``). More: documents in
    several languages, analyzed language-agnostically (``multi``). A language xlir does not
    know becomes ``None`` for queries (analyzed like the documents) and ``multi`` for
    documents.
    """
    eval_langs = task_metadata.eval_langs
    langs = list(eval_langs.get(hf_subset, []) if isinstance(eval_langs, dict) else eval_langs)
    if not langs:
        return None, "multi"
    isos = [mteb_lang_to_iso(code) for code in langs]
    if len(isos) == 2:
        query, doc = isos
    elif len(set(isos)) == 1:
        query = doc = isos[0]
    else:
        query, doc = None, None
    if doc is None:
        logger.warning(
            "%s/%s: documents in %s; using the language-agnostic analyzer 'multi'",
            task_metadata.name, hf_subset, ", ".join(langs),
        )
    return query, doc or "multi"


@dataclass(frozen=True)
class TaskContext:
    """What a retriever factory is told about the (task, subset, split) it indexes."""

    task_name: str
    hf_subset: str
    hf_split: str
    query_lang: str | None  # xlir code, None when unknown
    doc_lang: str  # xlir code; "multi" when mixed or unknown


RetrieverFactory = Callable[[TaskContext], "Retriever"]


class XlirSearchModel:
    """An xlir pipeline as an mteb 2.x search model (``mteb.models.SearchProtocol``).

    ``retriever`` is a registry name (``"bm25"``, ``"dense"``...) with ``params`` for it,
    or a factory ``f(TaskContext) -> Retriever`` for anything else (a pipeline with
    translation or reranking, a retriever with a shared encoder). For every task subset
    and split mteb evaluates, ``index`` builds a fresh retriever and indexes the corpus;
    a registered retriever whose parameters have a ``lang`` gets the subset's document
    language unless ``params`` fixes one (and ``store_text=False`` unless set). Queries
    carry the subset's query language, so BM25 analyzes English questions as English
    against a German index.

    ``name`` (``org/model``, default ``xlir/{retriever}``) and ``revision`` (default the
    xlir version) name the result folder; parameters that differ from the retriever's
    defaults go to the model metadata's ``experiment_kwargs``, so each configuration gets
    its own mteb experiment folder. Raises :class:`ParamError` for unknown parameters or a
    malformed name, and :class:`~xlir.errors.UnknownComponentError` for an unknown
    retriever.
    """

    def __init__(
        self,
        retriever: str | RetrieverFactory = "bm25",
        params: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        revision: str | None = None,
        show_progress: bool | None = False,
    ):
        from xlir import __version__

        self.params = dict(params or {})
        self.show_progress = show_progress
        self._shared_encoder = None
        self._retriever: Retriever | None = None
        self._context: TaskContext | None = None
        self._doc_count = 0
        if isinstance(retriever, str):
            from xlir.registry import RETRIEVERS

            self.retriever_name: str | None = retriever
            self._cls = RETRIEVERS.get(retriever)
            self._factory: RetrieverFactory | None = None
            experiment = self._check_params()
        elif callable(retriever):
            if self.params:
                raise ParamError("params go with a retriever name; a factory builds its retriever itself")
            self.retriever_name, self._cls, self._factory = None, None, retriever
            experiment = {}
        else:
            raise TypeError(f"retriever must be a registry name or a callable, got {type(retriever).__name__}")
        label = self.retriever_name or getattr(retriever, "__name__", "")
        if not label.isidentifier() or label.startswith("_"):  # a lambda or a callable object
            label = "pipeline"
        name = name or f"xlir/{label}"
        if "/" not in name or name.startswith("/") or name.endswith("/"):
            raise ParamError(f"mteb model names are 'organization/model', got {name!r}")
        self._meta = _model_meta(
            name,
            revision or __version__,
            self.retriever_name,
            experiment,
        )

    # -- mteb's SearchProtocol ----------------------------------------------------------
    @property
    def mteb_model_meta(self) -> ModelMeta:
        """mteb's metadata for this model: name, revision, experiment parameters."""
        return self._meta

    @mteb_model_meta.setter
    def mteb_model_meta(self, meta: ModelMeta) -> None:
        # ModelMeta.load_model() attaches the metadata it loaded the model from
        if not isinstance(meta, ModelMeta):
            raise TypeError(f"mteb_model_meta must be an mteb ModelMeta, got {type(meta).__name__}")
        self._meta = meta

    def index(
        self,
        corpus: Any,
        *,
        task_metadata: "TaskMetadata",
        hf_split: str,
        hf_subset: str,
        encode_kwargs: Mapping[str, Any] | None = None,
        num_proc: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Build a fresh retriever for this subset and index ``corpus`` (rows id, text, title)."""
        query_lang, doc_lang = subset_languages(task_metadata, hf_subset)
        self._context = TaskContext(task_metadata.name, hf_subset, hf_split, query_lang, doc_lang)
        self._retriever = None  # free the previous subset's index before building the next
        retriever = self.make_retriever(self._context)
        docs = _corpus_docs(corpus, doc_lang)
        self._doc_count = len(docs)
        logger.info("%s/%s/%s: indexing %d documents (%s)", task_metadata.name, hf_subset, hf_split,
                    len(docs), doc_lang)
        retriever.index(docs, show_progress=self.show_progress)
        self._retriever = retriever

    def search(
        self,
        queries: Any,
        *,
        task_metadata: "TaskMetadata",
        hf_split: str,
        hf_subset: str,
        top_k: int,
        encode_kwargs: Mapping[str, Any] | None = None,
        top_ranked: Mapping[str, list[str]] | None = None,
        num_proc: int | None = None,
        **kwargs: Any,
    ) -> Run:
        """Top-``top_k`` documents per query; every query id is a key (``{}`` when nothing matches).

        With ``top_ranked`` (mteb reranking tasks), each query's results are limited to its
        candidate documents. Raises :class:`XlirError` if ``index`` was not called for the
        same task, subset and split.
        """
        ctx = self._context
        if self._retriever is None or ctx is None or (ctx.task_name, ctx.hf_subset, ctx.hf_split) != (
            task_metadata.name, hf_subset, hf_split
        ):
            raise XlirError(f"search({task_metadata.name}/{hf_subset}/{hf_split}) before index() of the same subset")
        query_list = _queries(queries, ctx.query_lang)
        run: Run = {q.id: {} for q in query_list}
        if not query_list or self._doc_count == 0:
            return run
        k = self._doc_count if top_ranked is not None else min(top_k, self._doc_count)
        found = self._retriever.search(query_list, k=k, show_progress=self.show_progress)
        for qid in run:
            hits = found.get(qid) or {}
            if top_ranked is not None:
                allowed = set(top_ranked.get(qid, ()))
                hits = dict(sorted(((d, s) for d, s in hits.items() if d in allowed), key=lambda x: -x[1])[:top_k])
            run[qid] = {docid: float(score) for docid, score in hits.items()}
        return run

    # -- building retrievers ------------------------------------------------------------
    def make_retriever(self, ctx: TaskContext) -> "Retriever":
        """A new, empty retriever for ``ctx`` (from the factory, or the registry and ``params``)."""
        if self._factory is not None:
            return self._factory(ctx)
        from xlir.params import make_params

        values = dict(self.params)
        if _has_field(self._cls, "lang") and "lang" not in values:
            values["lang"] = ctx.doc_lang
        if _has_field(self._cls, "store_text") and "store_text" not in values:
            values["store_text"] = False  # mteb needs ids and scores; the texts would only take memory
        cls_params = getattr(self._cls, "Params", None)
        if cls_params is None or not dataclasses.is_dataclass(cls_params):
            return self._cls(**values)
        # a params object, not keywords: a parameter may share a name with a constructor
        # argument (dense's `encoder` is a registry name in params, an object in __init__)
        params = make_params(cls_params, values)
        if "encoder" in inspect.signature(self._cls.__init__).parameters:
            # one encoder (one model in memory) for every subset of every task
            if self._shared_encoder is not None:
                return self._cls(params, encoder=self._shared_encoder)
            retriever = self._cls(params)
            self._shared_encoder = retriever.encoder
            return retriever
        return self._cls(params)

    def _check_params(self) -> dict[str, Any]:
        """Validate ``params`` now (not at the first task); return those that differ from the defaults."""
        from xlir.params import make_params

        cls_params = getattr(self._cls, "Params", None)
        if cls_params is None or not dataclasses.is_dataclass(cls_params):
            return {k: v for k, v in self.params.items() if k not in _OPERATIONAL_PARAMS}
        probe = dict(self.params)
        if _has_field(self._cls, "lang") and "lang" not in probe:
            probe["lang"] = "en"
        checked = make_params(cls_params, probe)
        defaults = {f.name: f.default for f in dataclasses.fields(cls_params)}
        return {
            key: getattr(checked, key)
            for key in sorted(self.params)
            if key not in _OPERATIONAL_PARAMS and getattr(checked, key) != defaults.get(key)
        }

    def __repr__(self) -> str:
        what = self.retriever_name or "factory"
        return f"XlirSearchModel({what!r}, params={self.params!r}, name={self._meta.name!r})"


def _has_field(cls: Any, field: str) -> bool:
    params = getattr(cls, "Params", None)
    return params is not None and dataclasses.is_dataclass(params) and any(
        f.name == field for f in dataclasses.fields(params)
    )


def _model_meta(name: str, revision: str, retriever: str | None, experiment: Mapping[str, Any]) -> ModelMeta:
    known = _KNOWN_RETRIEVERS.get(retriever or "", {})
    fields: dict[str, Any] = {
        "name": name,
        "revision": revision,
        "use_instructions": False,
        "modalities": ["text"],
        "experiment_kwargs": dict(experiment) or None,
        **known,
    }
    if retriever is not None:
        fields["loader"] = _load_xlir_model
        fields["loader_kwargs"] = {"retriever": retriever}
    # every field mteb knows, unknown ones None; validated, so a bad value fails here
    return ModelMeta.model_validate({**ModelMeta.create_empty().model_dump(), **fields})


def _load_xlir_model(model_name: str, revision: str | None = None, *, retriever: str, device: str | None = None,
                     **params: Any) -> XlirSearchModel:
    """mteb's loader for an xlir ModelMeta: ``meta.load_model()`` rebuilds the model."""
    if device is not None:
        params["device"] = device
    return XlirSearchModel(retriever, params, name=model_name, revision=revision)


def _corpus_docs(corpus: Any, lang: str) -> list[Doc]:
    docs = []
    for row in corpus:
        text = row.get("text")
        if not isinstance(text, str):
            raise XlirError(f"document {row.get('id')!r}: xlir indexes text; got {type(text).__name__}")
        docs.append(Doc(id=str(row["id"]), text=text, title=row.get("title") or "", lang=lang))
    return docs


def _queries(queries: Any, lang: str | None) -> list[Query]:
    out = []
    has_instruction = "instruction" in getattr(queries, "column_names", ())
    for row in queries:
        text = row.get("text")
        if not isinstance(text, str):
            raise XlirError(
                f"query {row.get('id')!r}: xlir answers text queries; got {type(text).__name__} "
                "(a conversation or another modality)"
            )
        instruction = row.get("instruction") if has_instruction else None
        if instruction:  # as mteb joins them for its own BM25 and encoders
            text = f"{text} {instruction}"
        out.append(Query(id=str(row["id"]), text=text, lang=lang))
    return out


# -- running and result files ------------------------------------------------------------
def run_mteb(
    model: XlirSearchModel | str | Any,
    tasks: "AbsTask | Iterable[AbsTask]",
    output_folder: str | os.PathLike,
    *,
    overwrite_strategy: str = "always",
    encode_kwargs: Mapping[str, Any] | None = None,
    prediction_folder: str | os.PathLike | None = None,
    raise_error: bool = True,
    show_progress: bool = False,
) -> "ModelResult":
    """Evaluate ``model`` on ``tasks`` with ``mteb.evaluate`` and write mteb's result files.

    ``model`` is an :class:`XlirSearchModel`, a retriever name (``"bm25"``), or any mteb
    model. Result files go to ``output_folder/results/{org}__{name}/{revision}/{Task}.json``
    (under ``experiments/{params}/`` for non-default parameters) with ``model_meta.json``,
    which ``mteb.ResultCache(output_folder)`` and ``mteb.TaskResult.from_disk`` read.
    ``overwrite_strategy`` is mteb's (``always``, ``only-missing``, ``never``,
    ``only-cache``); the default recomputes, because a local task's data can change
    without its name changing. ``prediction_folder`` also writes each task's run as
    ``{Task}_predictions.json``. Returns mteb's ``ModelResult``; raises what the task or
    model raises unless ``raise_error=False``.
    """
    if isinstance(model, str):
        model = XlirSearchModel(model)
    cache = mteb.ResultCache(Path(output_folder))
    kwargs = dict(encode_kwargs or {})
    kwargs.setdefault("show_progress_bar", show_progress)
    result = mteb.evaluate(
        model,
        tasks,
        cache=cache,
        overwrite_strategy=overwrite_strategy,
        encode_kwargs=kwargs,
        prediction_folder=Path(prediction_folder) if prediction_folder is not None else None,
        raise_error=raise_error,
        show_progress_bar=show_progress,
        co2_tracker=False,
    )
    for error in result.exceptions or ():
        logger.error("mteb task %s failed: %s", error.task_name, error.exception)
    return result


def result_path(
    model: XlirSearchModel | ModelMeta | Any, task: "AbsTask | str", output_folder: str | os.PathLike
) -> Path:
    """Where :func:`run_mteb` writes (or wrote) the result file of ``model`` on ``task``."""
    meta = model if isinstance(model, ModelMeta) else model.mteb_model_meta
    task_name = task if isinstance(task, str) else task.metadata.name
    return mteb.ResultCache(Path(output_folder)).get_task_result_path(task_name, meta)
