"""Train a ranking task adapter on a frozen multilingual encoder (cross-encoder or bi-encoder).

Recipe: every (query, relevant document) of the qrels is one example; its negatives are
``negatives`` documents sampled (seeded) from the first stage's top ``mine_depth`` for the
query, relevant documents excluded (hard negatives). Each step takes ``batch_size`` examples.

``architecture="cross-encoder"`` (a bottleneck adapter + a one-score head): each step scores
the groups of 1 positive + ``negatives`` negatives with the cross-encoder of
:mod:`xlir.rerankers.adapter` and minimizes

* ``listwise``: softmax cross-entropy of the positive among its group, or
* ``pairwise``: RankNet's logistic loss ``log(1 + exp(s_neg - s_pos))`` averaged over pairs.

``architecture="bi-encoder"`` (a bottleneck adapter, no head; its up-projection starts at
zero, so training starts from the base encoder exactly): queries and the step's distinct
documents (positives and hard negatives of all its examples) are encoded separately, mean
pooled and L2-normalized; the loss is the softmax cross-entropy of each query's positive
among *all* the step's documents (its hard negatives + in-batch negatives: the other
examples' positives and negatives) of the cosines divided by ``temperature`` (e5 was trained
with 0.01). Documents relevant to the query other than its positive are left out of its softmax.
(``loss`` does not apply.)

Only the adapter (and the head) train (``model.train_adapter``); AdamW, linear warm-up over
the first 10% of steps then linear decay, gradient norm clipped at 1.

Checkpoints (trainable weights, optimizer moments, torch RNG, step) are written every
``checkpoint_every`` steps into ``.{output}.checkpoints/`` next to the output, each
atomically; ``resume=True`` continues from the last one and reaches the same weights an
uninterrupted run does. The mined examples are kept there too, so resuming does not mine
again. The final adapter folder is written atomically, then the checkpoints are removed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from xlir.errors import IndexExistsError, InputError, ParamError
from xlir.params import params_or_kwargs, params_to_dict
from xlir.rerankers.adapter import (
    ARCHITECTURES, BI, CARD, CARD_FORMAT, CROSS, RANK, bi_doc_text, doc_text, embed, pair_scores, tokenize_pairs,
    tokenize_texts,
)
from xlir.types import Doc, Qrels, Query

__all__ = ["TrainParams", "TrainResult", "train_reranker", "mine_examples", "checkpoint_dir"]

logger = logging.getLogger(__name__)

LOSSES = ("listwise", "pairwise")
#: Parameters that do not change what is trained (a resumed run may change them).
_NOT_IDENTITY = ("checkpoint_every",)
#: Parameters that decide the mined examples.
_MINING = ("first_stage", "lang", "negatives", "mine_depth", "seed")


@dataclass(frozen=True)
class TrainParams:
    """``first_stage``: ``bm25``, ``dense`` (multilingual-e5-small) or the path of an xlir index of
    the training corpus; ``lang``: BM25 analyzer language (default: the documents' language, else en)."""

    base_model: str = "multilingual-e5-small"
    #: ``cross-encoder`` (adapter + one-score head over the pair) or ``bi-encoder`` (adapter only, cosine)
    architecture: str = CROSS
    first_stage: str = "bm25"
    lang: str | None = None
    negatives: int = 3
    mine_depth: int = 20
    loss: str = "listwise"
    epochs: int = 1
    max_steps: int = 0  # 0: no limit; else training (and the learning-rate schedule) ends after this many steps
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_length: int = 256
    reduction_factor: int = 16
    #: adapters only in layers >= this (0: every layer); backpropagation then stops there, which saves time
    first_adapter_layer: int = 0
    head_layers: int = 2  # cross-encoder only
    #: bi-encoder only: softmax temperature of the cosines
    temperature: float = 0.01
    pooling: str = "mean"
    query_prefix: str = "query: "
    doc_prefix: str = "passage: "
    seed: int = 0
    checkpoint_every: int = 50

    def validate(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ParamError(f"architecture must be one of {', '.join(ARCHITECTURES)}; got {self.architecture!r}")
        if not self.temperature > 0:
            raise ParamError(f"temperature must be > 0, got {self.temperature}")
        if self.loss not in LOSSES:
            raise ParamError(f"loss must be one of {', '.join(LOSSES)}; got {self.loss!r}")
        if self.pooling not in ("mean", "cls"):
            raise ParamError(f"pooling must be 'mean' or 'cls'; got {self.pooling!r}")
        for name in ("negatives", "mine_depth", "epochs", "batch_size", "reduction_factor", "head_layers",
                     "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ParamError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.mine_depth < self.negatives:
            raise ParamError(f"mine_depth ({self.mine_depth}) must be >= negatives ({self.negatives})")
        if self.first_adapter_layer < 0:
            raise ParamError(f"first_adapter_layer must be >= 0, got {self.first_adapter_layer}")
        if self.max_steps < 0:
            raise ParamError(f"max_steps must be >= 0, got {self.max_steps}")
        if not self.lr > 0:
            raise ParamError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.warmup < 1:
            raise ParamError(f"warmup must be in [0, 1), got {self.warmup}")
        if self.max_length < 16:
            raise ParamError(f"max_length must be >= 16, got {self.max_length}")


@dataclass
class TrainResult:
    """What a call to :func:`train_reranker` did."""

    output: Path | None  # the adapter folder; None when stopped early (``stop_after``)
    steps_done: int
    total_steps: int
    examples: int
    seconds: float
    losses: list[float] = field(default_factory=list)  # mean loss per step, this run's steps only
    resumed_from: int = 0

    @property
    def finished(self) -> bool:
        return self.steps_done >= self.total_steps


def checkpoint_dir(output: str | Path) -> Path:
    """Where :func:`train_reranker` keeps checkpoints for ``output``: ``.{name}.checkpoints`` beside it."""
    output = Path(output)
    return output.parent / f".{output.name}.checkpoints"


# -- examples -------------------------------------------------------------------------------

def _first_stage(docs: list[Doc], params: TrainParams):
    from xlir.registry import RETRIEVERS

    fs = params.first_stage
    if fs == "bm25":
        lang = params.lang or next((d.lang for d in docs if d.lang), None) or "en"
        retriever = RETRIEVERS.create("bm25", lang=lang)
    elif fs == "dense":
        retriever = RETRIEVERS.create("dense")
    else:
        from xlir.store import load_index

        path = Path(fs)
        if not path.is_dir():
            raise ParamError(f"first_stage must be 'bm25', 'dense' or an index folder; {fs!r} is none of them")
        index = load_index(path)
        ids = set(index.docs.ids)
        missing = [d.id for d in docs if d.id not in ids]
        if missing:
            raise InputError(f"index {path} lacks {len(missing)} training document(s), e.g. {missing[0]!r}; "
                             f"it must index the training corpus")
        return index
    retriever.index(docs)
    return retriever


def mine_examples(
    docs: Sequence[Doc], queries: Sequence[Query], qrels: Qrels, params: TrainParams, *, retriever=None
) -> list[dict[str, Any]]:
    """One example per (query, relevant document): ``{"qid", "pos", "negs"}`` with mined negatives.

    Negatives are sampled (seeded per query) from the first stage's top ``mine_depth``
    minus the relevant documents; when those are too few, from the rest of the corpus.
    Relevant documents missing from ``docs`` are skipped with a warning. Raises
    :class:`InputError` when no example remains or the corpus is too small for the negatives.
    """
    docs = list(docs)
    doc_ids = [d.id for d in docs]
    known = set(doc_ids)
    by_id = {q.id: q for q in queries}
    judged = [q for q in queries if any(g > 0 for g in qrels.get(q.id, {}).values())]
    if not judged:
        raise InputError("no training query has a relevant document in the qrels")
    if len(known) < params.negatives + 1:
        raise InputError(f"the corpus has {len(known)} documents; {params.negatives} negatives per example need more")
    retriever = retriever if retriever is not None else _first_stage(docs, params)
    run = retriever.search(judged, k=min(params.mine_depth + 10, len(known)))
    examples = []
    skipped = 0
    for q in judged:
        positives = sorted(d for d, g in qrels[q.id].items() if g > 0)
        rng = np.random.default_rng([params.seed, int(hashlib.sha256(q.id.encode()).hexdigest()[:8], 16)])
        ranked = [d for d, _ in sorted(run.get(q.id, {}).items(), key=lambda x: (-x[1], x[0]))]
        pool = [d for d in ranked if d not in qrels[q.id] or qrels[q.id][d] <= 0][: params.mine_depth]
        for pos in positives:
            if pos not in known:
                skipped += 1
                continue
            negs = list(rng.choice(pool, size=min(params.negatives, len(pool)), replace=False)) if pool else []
            if len(negs) < params.negatives:  # few first-stage hits: random corpus documents fill up
                rest = [d for d in doc_ids if d not in negs and qrels[q.id].get(d, 0) <= 0]
                negs += list(rng.choice(rest, size=params.negatives - len(negs), replace=False))
            examples.append({"qid": q.id, "pos": pos, "negs": [str(n) for n in negs]})
    if skipped:
        logger.warning("skipped %d relevant document(s) that are not in the training corpus", skipped)
    if not examples:
        raise InputError("no (query, relevant document) pair has its document in the training corpus")
    missing = [e["qid"] for e in examples if e["qid"] not in by_id]
    assert not missing
    logger.info("mined %d examples (%d queries, %d negatives each) with %s", len(examples), len(judged),
                params.negatives, params.first_stage)
    return examples


def _data_digest(docs: Sequence[Doc], queries: Sequence[Query], qrels: Qrels) -> str:
    h = hashlib.sha256()
    for d in docs:
        h.update(f"{d.id}\0{d.title}\0{d.text}\0{d.lang}\n".encode())
    for q in queries:
        h.update(f"{q.id}\0{q.text}\n".encode())
    h.update(json.dumps(qrels, sort_keys=True).encode())
    return h.hexdigest()[:16]


# -- model ----------------------------------------------------------------------------------

def _new_model(params: TrainParams, device: str):
    import torch

    from xlir.rerankers.adapter import load_base_model

    torch.manual_seed(params.seed)  # adapter and head initialization
    model, tokenizer = load_base_model(params.base_model, device=device)
    layers = int(model.config.num_hidden_layers)
    if params.first_adapter_layer >= layers:
        raise ParamError(f"first_adapter_layer {params.first_adapter_layer} >= the model's {layers} layers")
    leave_out = list(range(params.first_adapter_layer))
    # adapters 1.3 warns "none are activated" from inside train_adapter, before the adapter is
    # active (see AdapterReranker.activate); the training forward passes do have it
    mixin_logger = logging.getLogger("adapters.model_mixin")
    level = mixin_logger.level
    mixin_logger.setLevel(logging.ERROR)
    try:
        _add_rank_adapter(model, params, leave_out)
    finally:
        mixin_logger.setLevel(level)
    model.to(device)
    return model, tokenizer


def _add_rank_adapter(model, params: TrainParams, leave_out: list[int]) -> None:
    from adapters import SeqBnConfig

    cross = params.architecture == CROSS
    # a bi-encoder's up-projection starts at zero ("mam_adapter" init): the untrained adapter is
    # the identity, so training starts from the base encoder's embeddings
    init = {} if cross else {"init_weights": "mam_adapter"}
    model.add_adapter(RANK, config=SeqBnConfig(reduction_factor=params.reduction_factor, leave_out=leave_out, **init))
    if cross:
        model.add_classification_head(RANK, num_labels=1, layers=params.head_layers)
    model.train_adapter(RANK)  # freezes every weight of the base model
    if cross:
        for p in model.heads[RANK].parameters():
            p.requires_grad_(True)
        model.active_head = RANK


def _batch_loss(model, tokenizer, batch: list[dict], by_query: dict, by_doc: dict, qrels: Qrels,
                params: TrainParams, device: str):
    """The loss of one step's examples (see the module docstring)."""
    import torch

    if params.architecture == BI:
        docids = list(dict.fromkeys(d for ex in batch for d in [ex["pos"], *ex["negs"]]))
        col = {d: j for j, d in enumerate(docids)}
        q = embed(model, tokenize_texts(tokenizer, [params.query_prefix + by_query[ex["qid"]].text for ex in batch],
                                        params.max_length, device), params.pooling)
        d = embed(model, tokenize_texts(tokenizer, [params.doc_prefix + bi_doc_text(by_doc[x]) for x in docids],
                                        params.max_length, device), params.pooling)
        logits = q @ d.T / params.temperature
        # other relevant documents of a query are no negatives of it
        mask = torch.zeros_like(logits, dtype=torch.bool)
        for i, ex in enumerate(batch):
            for docid, grade in qrels.get(ex["qid"], {}).items():
                if grade > 0 and docid != ex["pos"] and docid in col:
                    mask[i, col[docid]] = True
        logits = logits.masked_fill(mask, float("-inf"))
        target = torch.tensor([col[ex["pos"]] for ex in batch], dtype=torch.long, device=device)
        return torch.nn.functional.cross_entropy(logits, target)
    qtexts, dtexts = [], []
    for ex in batch:
        q = by_query[ex["qid"]]
        for docid in [ex["pos"], *ex["negs"]]:
            qtexts.append(params.query_prefix + q.text)
            dtexts.append(params.doc_prefix + doc_text(by_doc[docid]))
    enc = tokenize_pairs(tokenizer, qtexts, dtexts, params.max_length, device)
    logits = pair_scores(model, enc, params.pooling).view(len(batch), params.negatives + 1)
    if params.loss == "listwise":
        return torch.nn.functional.cross_entropy(logits, torch.zeros(len(batch), dtype=torch.long, device=device))
    return torch.nn.functional.softplus(logits[:, 1:] - logits[:, :1]).mean()


def _trainable(model) -> dict[str, Any]:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def _lr_at(step: int, total: int, params: TrainParams) -> float:
    warm = max(1, int(round(params.warmup * total)))
    if step < warm:
        return params.lr * (step + 1) / warm
    return params.lr * max(0.0, (total - step) / max(1, total - warm))


# -- checkpoints ----------------------------------------------------------------------------

def _save_checkpoint(ckdir: Path, step: int, model, optimizer, losses: list[float], key: str) -> None:
    import torch
    from safetensors.torch import save_file

    from xlir.store import atomic_index_dir

    names = list(_trainable(model))
    target = ckdir / f"step-{step:07d}"
    with atomic_index_dir(target, overwrite=True) as tmp:
        save_file({n: p.detach().cpu().contiguous() for n, p in _trainable(model).items()}, str(tmp / "trainable.safetensors"))
        state = optimizer.state_dict()
        tensors = {"torch_rng": torch.get_rng_state()}
        for idx, st in state["state"].items():
            for k, v in st.items():
                tensors[f"opt.{idx}.{k}"] = (v if torch.is_tensor(v) else torch.tensor(v)).detach().cpu().contiguous()
        save_file(tensors, str(tmp / "state.safetensors"))
        meta = {"step": step, "key": key, "param_names": names, "param_groups": state["param_groups"], "losses": losses}
        (tmp / "state.json").write_text(json.dumps(meta), encoding="utf-8")
    for old in ckdir.glob("step-*"):
        if old.name != target.name:
            shutil.rmtree(old, ignore_errors=True)
    logger.debug("checkpoint at step %d -> %s", step, target)


def _latest_checkpoint(ckdir: Path) -> Path | None:
    done = sorted(p for p in ckdir.glob("step-*") if (p / "state.json").is_file())
    return done[-1] if done else None


def _load_checkpoint(path: Path, model, optimizer, key: str) -> tuple[int, list[float]]:
    import torch
    from safetensors.torch import load_file

    meta = json.loads((path / "state.json").read_text(encoding="utf-8"))
    if meta.get("key") != key:
        raise ParamError(f"checkpoint {path} belongs to other training data or parameters; "
                         f"remove {path.parent} or train without --resume")
    weights = load_file(str(path / "trainable.safetensors"))
    params = _trainable(model)
    if sorted(weights) != sorted(params):
        raise ParamError(f"checkpoint {path} holds other trainable weights than this model")
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(weights[n])
    tensors = load_file(str(path / "state.safetensors"))
    state: dict[str, Any] = {"state": {}, "param_groups": meta["param_groups"]}
    for name, value in tensors.items():
        if name.startswith("opt."):
            _, idx, k = name.split(".", 2)
            state["state"].setdefault(int(idx), {})[k] = value
    optimizer.load_state_dict(state)
    torch.set_rng_state(tensors["torch_rng"])
    return int(meta["step"]), list(meta.get("losses", []))


# -- training -------------------------------------------------------------------------------

def train_reranker(
    docs: Iterable[Doc],
    queries: Sequence[Query],
    qrels: Qrels,
    output: str | Path,
    params: TrainParams | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    stop_after: int | None = None,
    data_description: str = "",
    show_progress: bool | None = False,
    device: str = "cpu",
    retriever=None,
    **kwargs: Any,
) -> TrainResult:
    """Train a ranking adapter and write it to ``output`` (the adapters library's folder + ``card.json``).

    ``params`` (or keyword arguments) are :class:`TrainParams`. ``stop_after``: stop once
    that many steps are done in total, leaving a checkpoint and no output (an interruption
    on purpose; ``resume=True`` continues). ``retriever``: an already indexed first stage
    over ``docs`` (otherwise built from ``params.first_stage``). Raises
    :class:`IndexExistsError` if ``output`` exists and ``overwrite`` is false,
    :class:`InputError` for unusable data, :class:`ParamError` for bad parameters or a
    checkpoint of another run.
    """
    import torch

    params = params_or_kwargs(TrainParams, params, kwargs)
    output = Path(output)
    if output.exists() and not overwrite:
        raise IndexExistsError(f"{output} already exists; pass --overwrite (overwrite=True) to replace it")
    if stop_after is not None and stop_after < 1:
        raise ParamError(f"stop_after must be >= 1, got {stop_after}")
    start_time = time.perf_counter()
    docs = list(docs)
    if not docs:
        raise InputError("the training corpus is empty")
    by_doc = {d.id: d for d in docs}
    by_query = {q.id: q for q in queries}
    digest = _data_digest(docs, queries, qrels)
    identity = {k: v for k, v in params_to_dict(params).items() if k not in _NOT_IDENTITY}
    key = hashlib.sha256((json.dumps(identity, sort_keys=True) + digest).encode()).hexdigest()[:16]
    # mined examples depend on the data and the mining parameters only: another run with other
    # training parameters (lr, steps...) reuses them instead of running the first stage again
    mining = {k: identity[k] for k in _MINING}
    mining_key = hashlib.sha256((json.dumps(mining, sort_keys=True) + digest).encode()).hexdigest()[:16]

    ckdir = checkpoint_dir(output)
    examples_file = ckdir / "examples.json"
    examples = None
    saved = json.loads(examples_file.read_text(encoding="utf-8")) if examples_file.is_file() else {}
    if resume and saved and saved.get("key") != key:
        raise ParamError(f"{ckdir} holds a run with other data or parameters; remove it or train without --resume")
    if saved.get("mining_key") == mining_key:
        examples = saved["examples"]
        logger.info("%d mined examples read from %s", len(examples), examples_file)
    if ckdir.exists() and not resume:
        logger.info("%s holds an earlier run; starting over (pass resume=True / --resume to continue it)", ckdir)
        for old in ckdir.glob("step-*"):
            shutil.rmtree(old)
    if examples is None:
        examples = mine_examples(docs, queries, qrels, params, retriever=retriever)
    ckdir.mkdir(parents=True, exist_ok=True)
    tmp = examples_file.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"key": key, "mining_key": mining_key, "examples": examples}), encoding="utf-8")
    tmp.replace(examples_file)

    model, tokenizer = _new_model(params, device)
    trainable = _trainable(model)
    optimizer = torch.optim.AdamW(list(trainable.values()), lr=params.lr, weight_decay=params.weight_decay)
    steps_per_epoch = math.ceil(len(examples) / params.batch_size)
    total = steps_per_epoch * params.epochs
    if params.max_steps:
        total = min(total, params.max_steps)
    step, losses = 0, []
    if resume:
        last = _latest_checkpoint(ckdir)
        if last is not None:
            step, losses = _load_checkpoint(last, model, optimizer, key)
            logger.info("resuming from step %d of %d (%s)", step, total, last)
    resumed_from = step
    run_losses: list[float] = []
    model.train()
    from xlir.rerankers.adapter import _Bar

    bar = _Bar(total - step, show_progress, "train-reranker")
    stopped = False
    while step < total:
        epoch, within = divmod(step, steps_per_epoch)
        order = np.random.default_rng([params.seed, epoch]).permutation(len(examples))
        batch = [examples[i] for i in order[within * params.batch_size : (within + 1) * params.batch_size]]
        for g in optimizer.param_groups:
            g["lr"] = _lr_at(step, total, params)
        loss = _batch_loss(model, tokenizer, batch, by_query, by_doc, qrels, params, device)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(trainable.values()), 1.0)
        optimizer.step()
        step += 1
        value = float(loss.detach())
        losses.append(round(value, 6))
        run_losses.append(value)
        bar.update()
        if step % params.checkpoint_every == 0 or step == total or (stop_after is not None and step >= stop_after):
            _save_checkpoint(ckdir, step, model, optimizer, losses, key)
        if step % 10 == 0:
            logger.info("step %d/%d loss %.4f (mean of last 10: %.4f)", step, total, value, float(np.mean(losses[-10:])))
        if stop_after is not None and step >= stop_after and step < total:
            stopped = True
            break
    bar.close()
    seconds = time.perf_counter() - start_time
    if stopped:
        logger.info("stopped after step %d of %d; resume to continue", step, total)
        return TrainResult(None, step, total, len(examples), seconds, run_losses, resumed_from)

    bi = params.architecture == BI
    card = {
        "format": CARD_FORMAT,
        "format_version": 1,
        "architecture": params.architecture,
        "adapter": RANK,
        "base_model": params.base_model,
        "pooling": params.pooling,
        "query_prefix": params.query_prefix,
        "doc_prefix": params.doc_prefix,
        "max_length": params.max_length,
        "adapter_config": {"architecture": "SeqBnConfig (bottleneck)", "reduction_factor": params.reduction_factor,
                           "layers": f"{params.first_adapter_layer}-",
                           "init_weights": "mam_adapter (zero up-projection)" if bi else "bert"},
        "head": None if bi else {"type": "classification", "num_labels": 1, "layers": params.head_layers},
        "score": "cosine of separately encoded query and passage (normalized mean pooling)" if bi
        else "head logit of the (query, passage) pair",
        "language_adapters": None,
        "training": {
            "data": data_description,
            "data_digest": _data_digest(docs, queries, qrels),
            "documents": len(docs),
            "queries": len({e["qid"] for e in examples}),
            "examples": len(examples),
            "examples_seen": _seen(len(examples), total, steps_per_epoch, params),
            "steps": total,
            "params": params_to_dict(params),
            "loss": f"softmax cross-entropy, temperature {params.temperature}, hard + in-batch negatives" if bi
            else params.loss,
            "loss_first_10": float(np.mean(losses[:10])),
            "loss_last_10": float(np.mean(losses[-10:])),
            "resumed_from_step": resumed_from or None,
            "seconds_this_run": round(seconds, 1),
            "device": device,
        },
        "trainable_parameters": int(sum(p.numel() for p in trainable.values())),
        "xlir_version": _xlir_version(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    _write_adapter(model, output, card, overwrite=overwrite)
    shutil.rmtree(ckdir, ignore_errors=True)
    logger.info("trained %d steps in %.0fs -> %s", total - resumed_from, seconds, output)
    return TrainResult(output, step, total, len(examples), seconds, run_losses, resumed_from)


def _seen(n: int, total: int, steps_per_epoch: int, params: TrainParams) -> int:
    """How many distinct examples the ``total`` steps drew (fewer than ``n`` when ``max_steps`` cut an epoch)."""
    seen: set[int] = set()
    for step in range(total):
        epoch, within = divmod(step, steps_per_epoch)
        order = np.random.default_rng([params.seed, epoch]).permutation(n)
        seen.update(order[within * params.batch_size : (within + 1) * params.batch_size].tolist())
    return len(seen)


def _write_adapter(model, output: Path, card: dict, *, overwrite: bool) -> None:
    from xlir.store import atomic_index_dir

    model.eval()
    with atomic_index_dir(output, overwrite=overwrite) as tmp:
        with_head = card.get("architecture", CROSS) == CROSS
        model.save_adapter(str(tmp), RANK, with_head=with_head, use_safetensors=True)
        (tmp / CARD).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        for f in tmp.iterdir():  # safetensors writes 0600; an adapter folder is meant to be shared
            f.chmod(0o644)
        tmp.chmod(0o755)


def _xlir_version() -> str:
    from xlir import __version__

    return __version__
