"""``xlir train-reranker``: train a ranking adapter from training queries, documents and qrels."""

from __future__ import annotations

import logging
from pathlib import Path

import click

logger = logging.getLogger(__name__)


@click.command("train-reranker")
@click.option("--corpus", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Training documents (JSONL: id, text, optional title/lang).")
@click.option("--queries", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Training queries (TSV qid<TAB>text, or JSONL).")
@click.option("--qrels", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TREC qrels of the training queries.")
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path), help="Adapter folder to write.")
@click.option("--lang", help="Document language (BM25 analyzer; default: the corpus' own, else en).")
@click.option("--query-lang", default=None, help="Query language [default: --lang].")
@click.option("--architecture", type=click.Choice(["cross-encoder", "bi-encoder"]), default="cross-encoder",
              show_default=True,
              help="cross-encoder: adapter + one-score head over the (query, passage) pair; bi-encoder: adapter only "
                   "(zero-initialized), query and passage encoded separately, cosine score.")
@click.option("--temperature", type=float, default=0.01, show_default=True,
              help="bi-encoder: softmax temperature of the cosines (hard + in-batch negatives).")
@click.option("--base-model", default="multilingual-e5-small", show_default=True, help="Base encoder name or folder.")
@click.option("--first-stage", default="bm25", show_default=True,
              help="Hard-negative miner: bm25, dense, or the path of an xlir index of the corpus.")
@click.option("--negatives", type=click.IntRange(min=1), default=3, show_default=True, help="Negatives per positive.")
@click.option("--mine-depth", type=click.IntRange(min=1), default=20, show_default=True,
              help="Negatives are sampled from the first stage's top N.")
@click.option("--loss", type=click.Choice(["listwise", "pairwise"]), default="listwise", show_default=True,
              help="cross-encoder loss (a bi-encoder always uses the listwise in-batch softmax).")
@click.option("--epochs", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--max-steps", type=click.IntRange(min=0), default=0, show_default=True,
              help="End training (and the learning-rate schedule) after N steps (0: all epochs).")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True, help="Queries per step.")
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--max-length", type=click.IntRange(min=16), default=256, show_default=True)
@click.option("--reduction-factor", type=click.IntRange(min=1), default=16, show_default=True,
              help="Bottleneck adapter reduction factor.")
@click.option("--first-adapter-layer", type=click.IntRange(min=0), default=0, show_default=True,
              help="Adapters only in layers >= N (backpropagation stops there: faster on CPU).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=50, show_default=True, help="Steps.")
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint of an interrupted run.")
@click.option("--stop-after", type=click.IntRange(min=1), default=None,
              help="Stop after this many steps in total (checkpointed; --resume continues).")
@click.option("--description", default="", help="Training data description recorded in the card.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:0...")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
@click.pass_obj
def train_reranker(state, corpus: Path, queries: Path, qrels: Path, output: Path, lang, query_lang, architecture,
                   temperature, base_model, first_stage, negatives, mine_depth, loss, epochs, max_steps, batch_size,
                   lr, max_length, reduction_factor, first_adapter_layer, seed, checkpoint_every, resume, stop_after,
                   description, device, overwrite) -> None:
    """Train a ranking task adapter on a frozen multilingual encoder (cross-encoder or bi-encoder).

    Hard negatives come from the first stage; checkpoints go to .OUTPUT.checkpoints/ beside
    OUTPUT. Load the result with the `adapter` reranker (adapter:OUTPUT).
    """
    from xlir.errors import IndexExistsError
    from xlir.io import read_corpus, read_qrels, read_queries
    from xlir.rerankers.train import TrainParams, train_reranker as train
    from xlir.params import make_params

    if output.exists() and not overwrite:
        raise IndexExistsError(f"{output} already exists; pass --overwrite to replace it")
    params = make_params(
        TrainParams, architecture=architecture, temperature=temperature, base_model=base_model,
        first_stage=first_stage, lang=lang, negatives=negatives, mine_depth=mine_depth, loss=loss, epochs=epochs,
        max_steps=max_steps, batch_size=batch_size, lr=lr, max_length=max_length, reduction_factor=reduction_factor,
        first_adapter_layer=first_adapter_layer, seed=seed, checkpoint_every=checkpoint_every,
    )
    docs = list(read_corpus(corpus, lang=lang))
    qs = read_queries(queries, lang=query_lang or lang)
    result = train(
        docs, qs, read_qrels(qrels), output, params, resume=resume, overwrite=overwrite, stop_after=stop_after,
        data_description=description or f"corpus {corpus.name}, queries {queries.name}, qrels {qrels.name}",
        show_progress=state.show_progress, device=device,
    )
    if result.output is None:
        click.echo(f"stopped at step {result.steps_done}/{result.total_steps}; run again with --resume", err=True)
        return
    click.echo(str(result.output))
