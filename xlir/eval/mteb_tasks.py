"""xlir's collections as mteb 2.x retrieval tasks, loaded from local files or memory.

mteb tasks are classes with a ``metadata = TaskMetadata(...)`` attribute whose
``load_data`` fills ``self.dataset[hf_subset][split]`` with a ``RetrievalSplitData``
(``corpus`` and ``queries`` as ``datasets.Dataset`` with ``id``/``text``/``title``
columns, ``relevant_docs`` as ``{qid: {docid: grade}}``) — see
``mteb/abstasks/retrieval.py`` and mteb's own ``mteb/mocks/mock_tasks/retrieval.py``.
mteb's tasks download from the Hugging Face Hub; these read what xlir's loaders read,
so they run offline.

- :func:`collection_task`: any in-memory collection(s) (documents, queries, qrels) as a task.
- :class:`XQuADRRetrieval`: XQuAD-R, English questions -> paragraphs in each of the 11
  languages, one subset per language (``en-de``...), from a local copy of the data.
- :class:`CLIRuditRetrieval`: CLIRudit, English queries -> French scientific abstracts
  (``en-fr``), and the same articles' English abstracts (``en-en``), from local parquet
  files (or the Hub when online).
- :class:`HC4Retrieval`: HC4, English topics -> Persian, Russian, Chinese news (subsets
  ``fas``, ``rus``, ``zho``), topics and qrels from a local folder, documents from the
  JSONL files HC4's download script writes.

mteb instantiates task classes without arguments (``mteb.get_tasks``), so each task
finds its data in ``$XLIR_DATA/{xquad-r,clirudit,hc4}`` unless given a path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

from xlir.errors import InputError, MissingDependencyError, ParamError

try:
    from datasets import Dataset
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData
    from mteb.abstasks.task_metadata import TaskMetadata
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError(
        f'xlir\'s mteb tasks need mteb ({e.name or e}), which is not installed; run: pip install "xlir[bench]"'
    ) from e

__all__ = [
    "mteb_lang",
    "XlirRetrievalTask",
    "collection_task",
    "XQuADRRetrieval",
    "CLIRuditRetrieval",
    "HC4Retrieval",
    "DATA_ENV",
    "data_folder",
]

#: Environment variable naming xlir's data folder (holding ``xquad-r/``, ``hc4/``...).
DATA_ENV = "XLIR_DATA"

# ISO 15924 script of each xlir language written in another script than Latin.
_SCRIPTS = {
    "ar": "Arab", "fa": "Arab", "ur": "Arab", "ru": "Cyrl", "bg": "Cyrl", "uk": "Cyrl", "sr": "Cyrl",
    "el": "Grek", "hi": "Deva", "mr": "Deva", "ne": "Deva", "bn": "Beng", "he": "Hebr", "yi": "Hebr",
    "hy": "Armn", "ja": "Jpan", "ko": "Hang", "th": "Thai", "zh": "Hans", "ta": "Taml", "multi": "Zyyy",
}


def mteb_lang(code: str) -> str:
    """mteb's ``{ISO 639-3}-{ISO 15924}`` code for an xlir language (``de`` -> ``deu-Latn``).

    ``multi`` becomes ``mul-Zyyy``. Raises :class:`~xlir.errors.UnknownLanguageError`.
    """
    from xlir.analysis import normalize_lang
    from xlir.analysis.languages import MULTI, PROFILES

    iso1 = normalize_lang(code)
    if iso1 == MULTI:
        return "mul-" + _SCRIPTS[MULTI]
    profile = PROFILES[iso1]
    iso3 = next(a for a in profile.aliases if len(a) == 3)
    return f"{iso3}-{_SCRIPTS.get(iso1, 'Latn')}"


def _split_data(collection: Any) -> RetrievalSplitData:
    """mteb's split data from anything with ``docs``, ``queries`` and ``qrels`` (xlir types)."""
    docs = [{"id": d.id, "text": d.text, "title": d.title or ""} for d in collection.docs]
    queries = [{"id": q.id, "text": q.text} for q in collection.queries]
    qrels = {qid: {docid: int(grade) for docid, grade in judged.items()} for qid, judged in collection.qrels.items()}
    return RetrievalSplitData(
        corpus=Dataset.from_list(docs) if docs else Dataset.from_dict({"id": [], "text": [], "title": []}),
        queries=Dataset.from_list(queries) if queries else Dataset.from_dict({"id": [], "text": []}),
        relevant_docs=qrels,
        top_ranked=None,
    )


class XlirRetrievalTask(AbsTaskRetrieval):
    """An mteb retrieval task whose data come from an xlir loader instead of the Hub.

    Subclasses set ``metadata`` and implement :meth:`load_collection` for one subset
    (``"default"`` for a task without subsets); every evaluation split gets the same data.
    """

    def load_collection(self, hf_subset: str) -> Any:
        """The subset's collection: an object with ``docs``, ``queries`` and ``qrels``."""
        raise NotImplementedError

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        """Load the selected subsets (``self.hf_subsets``) into ``self.dataset``."""
        if self.data_loaded:
            return
        self.dataset = {}
        for subset in self.hf_subsets:
            data = _split_data(self.load_collection(subset))
            self.dataset[subset] = {split: data for split in self.eval_splits}
        self.data_loaded = True

    def unload_data(self) -> None:
        # mteb drops an instance's own metadata on unload (it describes filtered data);
        # ours names a variant of the task (HC4's query condition) and must stay
        own = self.__dict__.get("metadata")
        super().unload_data()
        if own is not None:
            self.metadata = own

    def _select_subsets(self, hf_subsets: list[str] | None) -> None:
        if hf_subsets is None:
            return
        available = self.metadata.hf_subsets
        unknown = sorted(set(hf_subsets) - set(available))
        if unknown:
            raise ParamError(
                f"unknown {self.metadata.name} subset(s) {', '.join(unknown)}; available: {', '.join(available)}"
            )
        self.hf_subsets = list(hf_subsets)


class _InMemoryTask(XlirRetrievalTask):
    _collections: Mapping[str, Any]

    def __init__(self, collections: Mapping[str, Any], **kwargs: Any):
        super().__init__(**kwargs)
        self._collections = collections

    def load_collection(self, hf_subset: str) -> Any:
        return self._collections[hf_subset]


def _langs(collection: Any, queries_lang: str | None, docs_lang: str | None) -> list[str]:
    q = queries_lang or getattr(collection, "queries_lang", None)
    d = docs_lang or getattr(collection, "docs_lang", None)
    if d is None:
        langs = {doc.lang for doc in collection.docs if doc.lang}
        d = langs.pop() if len(langs) == 1 else "multi"
    if d == "pooled":
        d = "multi"
    q = q or d
    return [mteb_lang(d)] if mteb_lang(q) == mteb_lang(d) else [mteb_lang(q), mteb_lang(d)]


def collection_task(
    collections: Any,
    *,
    name: str,
    description: str = "",
    queries_lang: str | None = None,
    docs_lang: str | None = None,
    split: str = "test",
    main_score: str = "ndcg_at_10",
    revision: str = "local",
    reference: str | None = None,
    **metadata: Any,
) -> XlirRetrievalTask:
    """An mteb retrieval task over in-memory collections (xlir ``Doc``/``Query``/``Qrels``).

    ``collections`` is one collection (a task without subsets) or ``{subset: collection}``;
    a collection is anything with ``docs``, ``queries`` and ``qrels`` (e.g. what
    ``load_xquad_r`` returns, or a ``types.SimpleNamespace``). Languages come from
    ``queries_lang``/``docs_lang``, else the collection's own, else the documents'
    ``lang``; a subset whose queries and documents differ in language lists
    ``[query, document]`` as mteb's cross-lingual tasks do. ``metadata`` adds
    ``TaskMetadata`` fields (``domains``, ``license``...). Raises :class:`ParamError` for
    a name mteb cannot use as a file name.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", name):
        raise ParamError(f"task name {name!r}: use letters, digits, '.', '_' and '-' (it names the result file)")
    multi = isinstance(collections, Mapping)
    by_subset = dict(collections) if multi else {"default": collections}
    if not by_subset:
        raise ParamError("collection_task needs at least one collection")
    eval_langs: Any = {s: _langs(c, queries_lang, docs_lang) for s, c in by_subset.items()}
    if not multi:
        eval_langs = eval_langs["default"]
    meta = TaskMetadata(
        name=name,
        description=description or f"{name}: an xlir collection",
        reference=reference,
        dataset={"path": f"xlir/{name}", "revision": revision},
        type="Retrieval",
        category="t2t",
        modalities=["text"],
        eval_splits=[split],
        eval_langs=eval_langs,
        main_score=main_score,
        **metadata,
    )
    cls = type(re.sub(r"\W", "_", name), (_InMemoryTask,), {"metadata": meta, "__module__": __name__})
    return cls(by_subset)


# -- XQuAD-R -------------------------------------------------------------------------------
def _xquad_r_langs() -> dict[str, list[str]]:
    from xlir.datasets import XQUAD_R_LANGS

    return {
        (f"en-{lang}"): ([mteb_lang("en")] if lang == "en" else [mteb_lang("en"), mteb_lang(lang)])
        for lang in XQUAD_R_LANGS
    }


def data_folder(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """``data_dir``, else ``$XLIR_DATA/{name}``, else ``$XLIR_DATA`` itself.

    Raises :class:`InputError` when neither is given.
    """
    if data_dir is not None:
        return Path(data_dir)
    root = os.environ.get(DATA_ENV)
    if not root:
        raise InputError(
            f"no {name} data folder: pass data_dir=... or set {DATA_ENV} to a folder holding {name}/"
        )
    root_path = Path(root).expanduser()
    return root_path / name if (root_path / name).is_dir() else root_path


class XQuADRRetrieval(XlirRetrievalTask):
    """XQuAD-R (LAReQA): English questions -> the paragraph that answers them, per language.

    One subset per document language (``en-ar`` ... ``en-zh``, ``en-en`` monolingual), each
    240 paragraphs and 1,190 questions, one relevant paragraph per question. The data are
    the ``{lang}.json`` files of github.com/google-research-datasets/lareqa (``xquad-r/``):
    ``data_dir``, or ``$XLIR_DATA/xquad-r``. Select subsets with mteb's
    ``task.filter_languages(["deu"])`` or ``hf_subsets=[...]``.
    """

    metadata = TaskMetadata(
        name="XQuADRRetrieval",
        description=(
            "XQuAD-R (LAReQA): XQuAD's 1,190 English questions against the 240 paragraphs of "
            "each of 11 languages; one relevant paragraph per question. Read from a local copy."
        ),
        reference="https://github.com/google-research-datasets/lareqa",
        dataset={"path": "xlir/xquad-r", "revision": "lareqa-xquad-r"},
        type="Retrieval",
        category="t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs=_xquad_r_langs(),
        main_score="ndcg_at_10",
        domains=["Encyclopaedic", "Written"],
        task_subtypes=["Question answering"],
        license="cc-by-sa-4.0",
        annotations_creators="human-annotated",
        dialect=[],
        sample_creation="human-translated",
        bibtex_citation="",
    )

    def __init__(self, data_dir: str | os.PathLike | None = None, *, hf_subsets: list[str] | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.data_dir = data_dir
        self._select_subsets(hf_subsets)

    def load_collection(self, hf_subset: str) -> Any:
        from xlir.datasets import load_xquad_r

        queries_lang, _, docs_lang = hf_subset.partition("-")
        return load_xquad_r(data_folder("xquad-r", self.data_dir), queries_lang=queries_lang, docs_lang=docs_lang)


# -- CLIRudit ------------------------------------------------------------------------------
class CLIRuditRetrieval(XlirRetrievalTask):
    """CLIRudit: English keyword queries -> French scientific articles (Érudit).

    Subsets: ``en-fr``, the cross-lingual task, and ``en-en``, the authors' English
    titles and abstracts of the same articles (a monolingual reference); select with
    ``hf_subsets=["en-fr"]``. ``data_dir`` is a folder in the Hub repository's parquet
    layout or a Hub name; else ``$XLIR_DATA/clirudit``; else ``ftvalentini/clirudit``
    from the Hub (online only). Needs pyarrow.
    """

    metadata = TaskMetadata(
        name="CLIRuditRetrieval",
        description=(
            "CLIRudit: English keyword queries against the titles and abstracts of French scientific "
            "articles from Érudit (en-fr), and against the same articles' English metadata (en-en)."
        ),
        reference="https://huggingface.co/datasets/ftvalentini/clirudit",
        dataset={"path": "ftvalentini/clirudit", "revision": "local"},
        type="Retrieval",
        category="t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs={"en-fr": [mteb_lang("en"), mteb_lang("fr")], "en-en": [mteb_lang("en")]},
        main_score="ndcg_at_10",
        domains=["Academic", "Written"],
        license="cc-by-nc-4.0",
        dialect=[],
        bibtex_citation="",
    )

    def __init__(self, data_dir: str | os.PathLike | None = None, *, hf_subsets: list[str] | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.data_dir = data_dir
        self._select_subsets(hf_subsets)

    def load_collection(self, hf_subset: str) -> Any:
        from xlir.datasets import CLIRUDIT_HUB_NAME, load_clirudit

        if self.data_dir is not None:
            source: str | os.PathLike = self.data_dir
        elif os.environ.get(DATA_ENV):
            source = data_folder("clirudit")
        else:
            source = CLIRUDIT_HUB_NAME
        return load_clirudit(source, docs_lang=hf_subset.partition("-")[2])


# -- HC4 -----------------------------------------------------------------------------------
_HC4_SUBSETS = {"fas": "fa", "rus": "ru", "zho": "zh"}
_HC4_FIELDS = {"title": "title", "description": "desc", "title+description": "title-desc"}
_HC4_QUERIES = ("en", "human", "mt")


def _hc4_metadata(queries: str, query_field: str, split: str) -> TaskMetadata:
    condition = "" if (queries, query_field) == ("en", "title") else f".{queries}.{_HC4_FIELDS[query_field]}"
    asked = {"en": "English topic", "human": "human translation of the topic into the documents' language",
             "mt": "machine translation of the topic into the documents' language"}[queries]
    eval_langs = {
        subset: ([mteb_lang("en"), mteb_lang(lang)] if queries == "en" else [mteb_lang(lang)])
        for subset, lang in _HC4_SUBSETS.items()
    }
    return TaskMetadata(
        name=f"HC4Retrieval{condition}",
        description=(
            f"HC4: Common Crawl news in Persian, Russian and Chinese, judged for {split} topics; "
            f"queries are the {query_field} of the {asked}."
        ),
        reference="https://github.com/hltcoe/HC4",
        dataset={"path": "hltcoe/hc4", "revision": "v1-0"},
        type="Retrieval",
        category="t2t",
        modalities=["text"],
        eval_splits=[split],
        eval_langs=eval_langs,
        main_score="ndcg_at_20",
        domains=["News", "Written"],
        annotations_creators="expert-annotated",
        dialect=[],
        sample_creation="found",
        bibtex_citation="",
    )


class HC4Retrieval(XlirRetrievalTask):
    """HC4: English topics -> Persian (``fas``), Russian (``rus``), Chinese (``zho``) news.

    ``topics_dir`` is a folder laid out as HC4's ``resources/hc4/`` (topics, and
    ``{fas,rus,zho}/{split}.qrels.v1-0.txt``), default ``$XLIR_DATA/hc4``. ``docs`` maps a
    language (``fa`` or ``fas``...) to the JSONL of its documents from HC4's download
    script; a language not in ``docs`` is looked for at ``{topics_dir}/{fas,rus,zho}/hc4_docs.jsonl``
    (or ``.jsonl.gz``). The subsets evaluated are the languages with documents (all three
    when none has). ``queries``: ``en`` (the English topics, default), ``human`` (their
    human translations) or ``mt`` (machine translations); ``query_field``: ``title``,
    ``description`` or ``title+description``; other than English titles, the task is named
    after the condition (``HC4Retrieval.mt.title``) so results do not mix. The main score is
    nDCG@20, HC4's official measure.
    """

    metadata = _hc4_metadata("en", "title", "test")

    def __init__(
        self,
        topics_dir: str | os.PathLike | None = None,
        docs: Mapping[str, str | os.PathLike] | None = None,
        *,
        hf_subsets: list[str] | None = None,
        split: str = "test",
        queries: str = "en",
        query_field: str = "title",
        skip_untranslated: bool = False,
        **kwargs: Any,
    ):
        from xlir.datasets import HC4_SPLITS

        if queries not in _HC4_QUERIES:
            raise ParamError(f"unknown HC4 queries {queries!r}; available: {', '.join(_HC4_QUERIES)}")
        if query_field not in _HC4_FIELDS:
            raise ParamError(f"unknown HC4 query field {query_field!r}; available: {', '.join(_HC4_FIELDS)}")
        if split not in HC4_SPLITS:
            raise ParamError(f"unknown HC4 split {split!r}; available: {', '.join(HC4_SPLITS)}")
        if (queries, query_field, split) != ("en", "title", "test"):
            self.metadata = _hc4_metadata(queries, query_field, split)
        super().__init__(**kwargs)
        self.topics_dir = topics_dir
        # not `queries`/`corpus`: mteb reads those attributes as v1-format task data
        self.query_source, self.query_field, self.split = queries, query_field, split
        self.skip_untranslated = skip_untranslated
        self.doc_files = {self._subset(lang): Path(path) for lang, path in (docs or {}).items()}
        if hf_subsets is None:
            found = [s for s in self.metadata.hf_subsets if self._docs_path(s, required=False) is not None]
            hf_subsets = found or None
        self._select_subsets(hf_subsets)

    @staticmethod
    def _subset(lang: str) -> str:
        from xlir.analysis import normalize_lang

        by_lang = {v: k for k, v in _HC4_SUBSETS.items()}
        try:
            return by_lang[normalize_lang(lang)]
        except (KeyError, ValueError):
            raise ParamError(f"unknown HC4 documents language {lang!r}; available: fa, ru, zh") from None

    def _topics(self) -> Path:
        return data_folder("hc4", self.topics_dir)

    def _docs_path(self, subset: str, *, required: bool = True) -> Path | None:
        if subset in self.doc_files:
            return self.doc_files[subset]
        try:
            topics = self._topics()
        except InputError:
            topics = None
        if topics is not None:
            for name in ("hc4_docs.jsonl", "hc4_docs.jsonl.gz"):
                if (topics / subset / name).is_file():
                    return topics / subset / name
        if required:
            lang = _HC4_SUBSETS[subset]
            where = f" or put it at {topics / subset / 'hc4_docs.jsonl'}" if topics is not None else ""
            raise InputError(
                f"no HC4 {subset} documents: pass docs={{{lang!r}: 'hc4_docs.jsonl'}} (the JSONL HC4's "
                f"download_documents.py writes){where}"
            )
        return None

    def load_collection(self, hf_subset: str) -> Any:
        from xlir.datasets import load_hc4

        lang = _HC4_SUBSETS[hf_subset]
        queries_lang = {"en": "en", "human": lang, "mt": "mt"}[self.query_source]
        return load_hc4(
            self._topics(), self._docs_path(hf_subset), docs_lang=lang, split=self.split,
            query_field=self.query_field, queries_lang=queries_lang, skip_untranslated=self.skip_untranslated,
        )
