"""Adapter rerankers: a frozen multilingual encoder + a ranking adapter (+ language adapters).

The base model (by default the offline multilingual-e5-small) stays frozen; a bottleneck
*ranking* task adapter trained by ``xlir train-reranker`` specializes it. Two architectures,
named by ``"architecture"`` in the adapter's ``card.json`` (a card without the key is a
cross-encoder, the first format):

* ``cross-encoder``: the adapter and a one-score head read ``"query: {q}"`` /
  ``"passage: {p}"`` as one token pair and mean-pool the last layer into the head (e5 was
  trained with mean pooling). Optional *language* adapters (one folder per language code)
  are composed under it with ``Stack(lang, rank)`` (MAD-X style) for the pairs whose
  document (``lang_side="doc"``) or query (``lang_side="query"``) is in that language.
* ``bi-encoder``: no head. The query (``"query: {q}"``) and the document
  (``"passage: {p}"``) are encoded *separately* with the ranking adapter active, mean-pooled
  and L2-normalized; the score is their cosine. Each distinct query and document is encoded
  once per call. Language adapters stack **per side**: the query is encoded under
  ``Stack(lang_{query language}, rank)``, the document under
  ``Stack(lang_{document language}, rank)`` (``lang_side`` does not apply); a side whose
  language has no adapter uses the ranking adapter alone. The adapter is trained from a
  zero-initialized up-projection, so an untrained one is exactly the base encoder.

Texts (pairs, or single texts for the bi-encoder) are grouped so that each batch runs one
adapter setup.

An adapter folder is the ``adapters`` library's save format (``adapter_config.json``,
``adapter.safetensors``, and for a cross-encoder ``head_config.json``,
``model_head.safetensors``) plus ``card.json``: architecture, base model, pooling, prefixes,
training data and parameters.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from xlir.errors import InputError, ParamError, XlirError
from xlir.params import params_or_kwargs, params_to_dict
from xlir.rerankers.base import PairReranker, RerankParams, batches
from xlir.types import Doc, Query

__all__ = ["AdapterReranker", "AdapterRerankerParams", "AdapterLoadError", "default_adapter_path", "CARD", "ARCHITECTURES"]

logger = logging.getLogger(__name__)

CARD = "card.json"
CARD_FORMAT = "xlir.rank-adapter"
RANK = "rank"  # the name the ranking adapter and its head carry inside the model
DEFAULT_ADAPTER = "xquad-en-rank-e5s-bi"  # improves dense and BM25 on held-out XQuAD-R (adapters/README.md)
DEFAULT_BASE = "multilingual-e5-small"
LANG_SIDES = ("doc", "query")
CROSS, BI = "cross-encoder", "bi-encoder"
ARCHITECTURES = (CROSS, BI)


class AdapterLoadError(XlirError, OSError):
    """An adapter folder is missing, incomplete, or was trained for another base model."""


def repo_adapters_dir() -> Path:
    """``adapters/`` at the root of the xlir checkout (next to the ``xlir`` package)."""
    return Path(__file__).resolve().parents[2] / "adapters"


def default_adapter_path() -> Path:
    """The committed ranking adapter; raises :class:`AdapterLoadError` when it is not there."""
    path = repo_adapters_dir() / DEFAULT_ADAPTER
    if not (path / "adapter_config.json").is_file():
        raise AdapterLoadError(
            f"the default ranking adapter {DEFAULT_ADAPTER!r} was not found at {path} (it ships in the xlir "
            f"source tree, not in a wheel); pass the adapter folder explicitly (adapter:PATH / path=PATH), "
            f"or train one with `xlir train-reranker`"
        )
    return path


def read_card(folder: Path) -> dict[str, Any]:
    """The folder's ``card.json`` ({} when absent); raises :class:`AdapterLoadError` on a bad one."""
    path = folder / CARD
    if not path.exists():
        return {}
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as e:
        raise AdapterLoadError(f"{path}: not a readable JSON card ({e})") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise AdapterLoadError(f"{path}: not an xlir ranking-adapter card (format {CARD_FORMAT!r})")
    return card


def card_architecture(card: dict[str, Any], folder: Path | str = "") -> str:
    """The card's ``architecture`` (``cross-encoder`` when absent); an unknown one is an :class:`AdapterLoadError`."""
    arch = card.get("architecture", CROSS)
    if arch not in ARCHITECTURES:
        raise AdapterLoadError(
            f"{Path(folder) / CARD}: unknown ranking-adapter architecture {arch!r}; this xlir knows "
            f"{', '.join(ARCHITECTURES)} (a newer xlir may have written it)"
        )
    return arch


def check_adapter_dir(folder: str | Path, what: str = "adapter") -> Path:
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise AdapterLoadError(f"{what} folder {folder} does not exist")
    if not (folder / "adapter_config.json").is_file():
        raise AdapterLoadError(
            f"{folder} is not an adapter folder (no adapter_config.json); expected what "
            f"`model.save_adapter(...)` of the adapters library writes"
        )
    return folder


@dataclass(frozen=True)
class AdapterRerankerParams(RerankParams):
    """``path``: ranking adapter folder (default: the committed ``adapters/xquad-en-rank-e5s-bi``);
    ``model``: base model name or folder (default: the card's ``base_model``);
    ``lang_adapters``: {language code: adapter folder}; ``lang_adapter_dir``: a folder of
    language adapters named by code (``de/``, ``zh/``...); ``lang_side``: a cross-encoder chooses the
    language adapter by the document's (``doc``) or the query's (``query``) language (a
    bi-encoder always uses each side's own language);
    ``strict_langs``: a pair whose language has no adapter is an error instead of running
    the ranking adapter alone; ``query_prefix``/``doc_prefix``/``pooling``: default from the card.
    """

    path: str | None = None
    model: str | None = None
    lang_adapters: dict[str, str] = field(default_factory=dict)
    lang_adapter_dir: str | None = None
    lang_side: str = "doc"
    strict_langs: bool = False
    query_prefix: str | None = None
    doc_prefix: str | None = None
    pooling: str | None = None

    def validate(self) -> None:
        super().validate()
        if self.lang_side not in LANG_SIDES:
            raise ParamError(f"lang_side must be one of {', '.join(LANG_SIDES)}; got {self.lang_side!r}")
        if self.pooling not in (None, "mean", "cls"):
            raise ParamError(f"pooling must be 'mean' or 'cls'; got {self.pooling!r}")
        if not isinstance(self.lang_adapters, dict):
            raise ParamError("lang_adapters must be a mapping {language code: adapter folder}")


def load_base_model(name: str, *, device: str = "cpu"):
    """``adapters.AutoAdapterModel`` and tokenizer of a base model name or folder (offline-aware)."""
    from adapters import AutoAdapterModel
    from transformers import AutoTokenizer

    from xlir.encoders.base import ModelLoadError, offline_hint
    from xlir.models.provision import resolve_model

    path = resolve_model(name)
    try:
        model = AutoAdapterModel.from_pretrained(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as e:
        if Path(path).exists():
            raise ModelLoadError(f"cannot load base model from {path}: {e}") from e
        raise ModelLoadError(offline_hint(name)) from e
    # adapter_config.json records config.name_or_path; keep the portable name, not a local cache path
    model.config.name_or_path = name
    return model.to(device), tokenizer


def _encode(model, encoded: dict, pooling: str):
    """(last hidden states, pooled vectors) of a tokenized batch under the active adapter setup."""
    import torch

    out = model.base_model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"])
    hidden = out[0]
    if pooling == "mean":
        mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return hidden, (hidden * mask).sum(1) / torch.clamp(mask.sum(1), min=1.0)
    return hidden, hidden[:, 0]


def pair_scores(model, encoded: dict, pooling: str):
    """Relevance logits (1-d tensor) of a tokenized batch under the model's active adapter setup."""
    hidden, pooled = _encode(model, encoded, pooling)
    return model.heads[RANK]((hidden,), cls_output=pooled)[0].view(-1)


def embed(model, encoded: dict, pooling: str):
    """L2-normalized embeddings (2-d tensor) of a tokenized batch of single texts under the active setup."""
    import torch

    return torch.nn.functional.normalize(_encode(model, encoded, pooling)[1], p=2, dim=-1)


def tokenize_texts(tokenizer, texts: Sequence[str], max_length: int, device: str):
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, padding=True, return_tensors="pt")
    return {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}


def tokenize_pairs(tokenizer, queries: Sequence[str], passages: Sequence[str], max_length: int, device: str):
    enc = tokenizer(
        list(queries), list(passages), truncation="longest_first", max_length=max_length,
        padding=True, return_tensors="pt",
    )
    return {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}


def doc_text(doc: Doc) -> str:
    """A document as the cross-encoder reads it (one sentence-like field)."""
    return f"{doc.title}. {doc.text}" if doc.title else doc.text


def bi_doc_text(doc: Doc) -> str:
    """A document as the bi-encoder encodes it: what the dense retriever encodes (title, newline,
    text), so that an untrained (identity) bi-encoder adapter reproduces dense scores."""
    return doc.contents


class AdapterReranker(PairReranker):
    """Reranker from a ranking adapter (+ optional language adapters) on a frozen encoder.

    ``RERANKERS.create("adapter", path=FOLDER)``: the one argument of ``adapter:ARG`` is the
    ranking adapter folder; without it the committed ``adapters/xquad-en-rank-e5s-bi`` is used.
    Other keyword arguments are :class:`AdapterRerankerParams` fields. The card's
    ``architecture`` decides the scoring: ``cross-encoder`` (a logit per pair) or
    ``bi-encoder`` (cosine of separately encoded query and document). The model loads on
    first use. Raises :class:`AdapterLoadError` for a missing or foreign adapter folder or
    an unknown architecture.
    """

    name: ClassVar[str] = "adapter"
    Params: ClassVar[type] = AdapterRerankerParams

    def __init__(self, path: str | Path | None = None, *, params: AdapterRerankerParams | None = None, **kwargs: Any):
        self.params = params_or_kwargs(AdapterRerankerParams, params, kwargs, path=path)
        self.path = check_adapter_dir(self.params.path, "ranking adapter") if self.params.path else default_adapter_path()
        self.card = read_card(self.path)
        self.architecture = card_architecture(self.card, self.path)
        self.lang_paths = self._lang_paths()
        self.base_name = self.params.model or self.card.get("base_model") or DEFAULT_BASE
        self.query_prefix = _pick(self.params.query_prefix, self.card.get("query_prefix"), "query: ")
        self.doc_prefix = _pick(self.params.doc_prefix, self.card.get("doc_prefix"), "passage: ")
        self.pooling = _pick(self.params.pooling, self.card.get("pooling"), "mean")
        self._model = None
        self._tokenizer = None
        self._device = None
        self._warned: set[str] = set()

    def _lang_paths(self) -> dict[str, Path]:
        paths: dict[str, Path] = {}
        if self.params.lang_adapter_dir:
            root = Path(self.params.lang_adapter_dir).expanduser()
            if not root.is_dir():
                raise AdapterLoadError(f"language adapter folder {root} does not exist")
            for sub in sorted(root.iterdir()):
                if (sub / "adapter_config.json").is_file():
                    paths[sub.name.lower()] = sub
            if not paths:
                raise AdapterLoadError(f"{root} holds no language adapter folders (<code>/adapter_config.json)")
        for lang, folder in self.params.lang_adapters.items():
            paths[str(lang).lower()] = check_adapter_dir(folder, f"language adapter {lang!r}")
        return paths

    # -- loading -------------------------------------------------------------------------
    @property
    def model(self):
        if self._model is None:
            self._load()
        return self._model

    def _load(self) -> None:
        from xlir.encoders.base import pick_device

        self._device = pick_device(self.params.device)
        model, tokenizer = load_base_model(self.base_name, device=self._device)
        cross = self.architecture == CROSS  # a bi-encoder has no head
        try:
            model.load_adapter(str(self.path), load_as=RANK, with_head=cross, use_safetensors=True)
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise AdapterLoadError(f"cannot load the ranking adapter from {self.path} onto {self.base_name!r}: {e}") from e
        if cross and RANK not in model.heads:
            raise AdapterLoadError(f"{self.path} has no prediction head; save it with with_head=True")
        for lang, folder in self.lang_paths.items():
            try:
                model.load_adapter(str(folder), load_as=_lang_name(lang), with_head=False, use_safetensors=True)
            except (OSError, ValueError, KeyError, RuntimeError) as e:
                raise AdapterLoadError(f"cannot load the language adapter {lang!r} from {folder}: {e}") from e
        model.to(self._device)
        model.eval()
        self._model, self._tokenizer = model, tokenizer
        logger.info("loaded %s ranking adapter %s on %s (language adapters: %s)", self.architecture, self.path,
                    self.base_name, ", ".join(sorted(self.lang_paths)) or "none")

    def identity(self) -> dict[str, Any]:
        """What produced the scores: adapter folder, base model, language adapters and parameters."""
        return {
            "reranker": self.name,
            "adapter": str(self.path),
            "architecture": self.architecture,
            "base_model": self.base_name,
            "lang_adapters": {k: str(v) for k, v in sorted(self.lang_paths.items())},
            "params": params_to_dict(self.params),
        }

    # -- composition -----------------------------------------------------------------------
    def lang_of(self, query: Query, doc: Doc) -> str | None:
        """The language whose adapter scores this pair with a cross-encoder (``None``: the ranking adapter alone)."""
        if self.params.lang_side == "doc":
            return self._adapter_lang(doc.lang, f"document {doc.id!r}")
        return self._adapter_lang(query.lang, f"query {query.id!r}")

    def _adapter_lang(self, lang: str | None, which: str) -> str | None:
        """``lang`` if it has a language adapter, else ``None`` (an error with ``strict_langs``)."""
        lang = lang.lower() if lang else None
        if lang in self.lang_paths:
            return lang
        if self.lang_paths and self.params.strict_langs:
            raise InputError(
                f"no language adapter for {lang!r} ({which}); available: {', '.join(sorted(self.lang_paths))}"
            )
        if self.lang_paths and lang not in self._warned:
            self._warned.add(lang)
            logger.info("no language adapter for %r: those texts use the ranking adapter alone", lang)
        return None

    def activate(self, lang: str | None) -> None:
        """Make ``Stack(lang adapter, rank)`` (or ``rank`` alone for ``None``) the active setup."""
        from adapters.composition import Stack

        model = self.model
        # adapters 1.3 resets the old setup inside set_active_adapters with a dummy forward
        # context, before the new setup is active, and warns "none are activated" for that
        # internal step; the real forward passes do have the setup, so silence only this call
        mixin_logger = logging.getLogger("adapters.model_mixin")
        level = mixin_logger.level
        mixin_logger.setLevel(logging.ERROR)
        try:
            model.set_active_adapters(Stack(_lang_name(lang), RANK) if lang else RANK)
        finally:
            mixin_logger.setLevel(level)
        if self.architecture == CROSS:
            model.active_head = RANK

    # -- scoring ---------------------------------------------------------------------------
    def score_pairs(self, pairs: Sequence[tuple[Query, Doc]], *, show_progress: bool | None = False) -> np.ndarray:
        """One score per (query, document) pair: a logit (cross-encoder) or a cosine (bi-encoder)."""
        if self.architecture == BI:
            return self._score_bi(pairs, show_progress=show_progress)
        return self._score_cross(pairs, show_progress=show_progress)

    def _score_cross(self, pairs: Sequence[tuple[Query, Doc]], *, show_progress: bool | None = False) -> np.ndarray:
        """One logit per pair; batches run one adapter setup each, longest first."""
        import torch

        scores = np.zeros(len(pairs), dtype=np.float32)
        if not pairs:
            return scores
        model = self.model
        qtexts = [self.query_prefix + q.text for q, _ in pairs]
        dtexts = [self.doc_prefix + doc_text(d) for _, d in pairs]
        lengths = [len(a) + len(b) for a, b in zip(qtexts, dtexts)]
        with torch.inference_mode():
            for idx in self._setup_batches([self.lang_of(q, d) for q, d in pairs], lengths, show_progress):
                enc = tokenize_pairs(self._tokenizer, [qtexts[i] for i in idx], [dtexts[i] for i in idx],
                                     self.params.max_length, self._device)
                scores[idx] = pair_scores(model, enc, self.pooling).float().cpu().numpy()
        return scores

    def _score_bi(self, pairs: Sequence[tuple[Query, Doc]], *, show_progress: bool | None = False) -> np.ndarray:
        """Cosine per pair; each distinct (text, language setup) of either side is encoded once."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        keys: dict[tuple[str | None, str], int] = {}  # (language adapter, prefixed text) -> row
        rows = np.zeros((len(pairs), 2), dtype=np.int64)
        for i, (q, d) in enumerate(pairs):
            qkey = (self._adapter_lang(q.lang, f"query {q.id!r}"), self.query_prefix + q.text)
            dkey = (self._adapter_lang(d.lang, f"document {d.id!r}"), self.doc_prefix + bi_doc_text(d))
            rows[i, 0] = keys.setdefault(qkey, len(keys))
            rows[i, 1] = keys.setdefault(dkey, len(keys))
        vectors = self.embed_texts(list(keys), show_progress=show_progress)
        return np.einsum("ij,ij->i", vectors[rows[:, 0]], vectors[rows[:, 1]]).astype(np.float32)

    def embed_texts(self, items: Sequence[tuple[str | None, str]], *, show_progress: bool | None = False) -> np.ndarray:
        """Normalized embeddings of (language adapter or ``None``, already prefixed text), one row per item.

        Texts are grouped by language setup and batched longest first (less padding).
        """
        import torch

        model = self.model
        out = np.zeros((len(items), int(model.config.hidden_size)), dtype=np.float32)
        with torch.inference_mode():
            for idx in self._setup_batches([lang for lang, _ in items], [len(t) for _, t in items], show_progress):
                enc = tokenize_texts(self._tokenizer, [items[i][1] for i in idx], self.params.max_length, self._device)
                out[idx] = embed(model, enc, self.pooling).float().cpu().numpy()
        return out

    def _setup_batches(self, langs: Sequence[str | None], lengths: Sequence[int], show_progress: bool | None):
        """Batches of row indices, one language setup each (activated before its batches; the ranking
        adapter alone first), longest first within a setup (less padding); one progress bar for all."""
        groups: dict[str | None, list[int]] = {}
        for i, lang in enumerate(langs):
            groups.setdefault(lang, []).append(i)
        bs = self.params.batch_size
        bar = _Bar(sum((len(ix) + bs - 1) // bs for ix in groups.values()), show_progress, f"rerank {self.name}")
        try:
            for lang in sorted(groups, key=lambda x: (x is not None, x or "")):
                self.activate(lang)
                order = sorted(groups[lang], key=lambda i: -lengths[i])
                for idx in batches(len(order), order, bs, show_progress=False, desc=""):
                    yield idx
                    bar.update()
        finally:
            bar.close()


class _Bar:
    """A progress bar advanced by hand (several loops feed one bar)."""

    def __init__(self, total: int, show_progress: bool | None, desc: str):
        from xlir.progress import progress_enabled

        self._bar = None
        if progress_enabled(show_progress):
            import sys

            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="batch", file=sys.stderr, dynamic_ncols=True)

    def update(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _lang_name(lang: str) -> str:
    return f"lang_{lang}"


def _pick(given: str | None, card: Any, default: str) -> str:
    if given is not None:
        return given
    return card if isinstance(card, str) else default
