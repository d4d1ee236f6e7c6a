"""``xlir demo``: index the bundled sample corpus, search it, evaluate — all offline.

With the dense extra installed the demo is cross-lingual (English queries over French,
German and Spanish documents); without it, BM25 searches each language on its own.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import click


@click.command()
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the demo indexes here (default: a temporary folder).")
@click.option("-k", "k", type=click.IntRange(min=1), default=3, show_default=True, help="Results shown per query.")
@click.option("--retriever", type=click.Choice(["auto", "dense", "bm25"]), default="auto", show_default=True,
              help="auto: dense (cross-lingual) when installed, else BM25.")
@click.option("--rerank", is_flag=True,
              help="Also rerank the dense top 10 with the shipped adapter reranker (needs the rerank extra).")
@click.pass_obj
def demo(state, output: Path | None, k: int, retriever: str, rerank: bool) -> None:
    """Offline demo on a small French/German/Spanish/English sample corpus."""
    from xlir.registry import RETRIEVERS

    if not state.debug:  # the demo's own output says what happens; keep the log to warnings
        logging.getLogger("xlir").setLevel(logging.ERROR)
    if retriever == "auto":
        retriever = "dense" if RETRIEVERS.is_available("dense") else "bm25"
    if rerank and retriever != "dense":
        raise click.UsageError("--rerank reranks the cross-lingual dense demo; it needs the dense extra")
    with tempfile.TemporaryDirectory(prefix="xlir-demo-") as tmp:
        root = output or Path(tmp)
        if retriever == "dense":
            _dense_demo(root, k, rerank)
        else:
            _bm25_demo(root, k)
        if output:
            click.echo(f"indexes kept in {output}")


def _show(index, query, hits) -> None:
    click.echo(f"» {query.text}")
    for rank, (docid, score) in enumerate(sorted(hits.items(), key=lambda x: (-x[1], x[0])), 1):
        doc = index.docs[docid]
        click.echo(f"   {rank}. {score:6.3f}  [{doc.lang}] {doc.title:<32} {docid}")
    click.echo("")


def _dense_demo(root: Path, k: int, rerank: bool = False) -> None:
    from xlir.demo import crosslingual_qrels, crosslingual_queries, demo_docs
    from xlir.eval.measures import evaluate
    from xlir.registry import RETRIEVERS
    from xlir.store import load_index

    docs = [d for d in demo_docs() if d.lang != "en"]
    queries = crosslingual_queries()
    click.echo(f"xlir demo — cross-lingual dense retrieval: {len(queries)} English queries over "
               f"{len(docs)} French, German and Spanish documents (multilingual-e5-small, offline)\n")
    dense = RETRIEVERS.create("dense")
    dense.index(docs)
    dense.save(root / "demo.dense", overwrite=True)
    index = load_index(root / "demo.dense")  # memory-mapped, as a user would
    run = index.search(queries, k=max(k, 10))
    for q in queries:
        _show(index, q, dict(sorted(run[q.id].items(), key=lambda x: -x[1])[:k]))
    qrels = crosslingual_qrels()
    scores = evaluate(qrels, run, ["nDCG@10", "R@3"])
    click.echo("dense, English → fr/de/es:   " + ", ".join(f"{m} {v:.3f}" for m, v in scores.items()))
    bm25 = RETRIEVERS.create("bm25", lang="multi")
    bm25.index(docs)
    lexical = evaluate(qrels, bm25.search(queries, k=10), ["nDCG@10", "R@3"])
    click.echo("BM25 on the same task:       " + ", ".join(f"{m} {v:.3f}" for m, v in lexical.items())
               + "   (words rarely match across languages)")
    if rerank:
        from xlir.registry import RERANKERS

        reranker = RERANKERS.create("adapter")  # the adapter shipped under adapters/
        click.echo("\nreranking the dense top 10 with the adapter reranker (English-trained ranking adapter, "
                   "zero-shot on fr/de/es) ...")
        reranked = reranker.rerank(queries, run, index.docs, depth=10)
        for q in queries:
            _show(index, q, dict(sorted(reranked[q.id].items(), key=lambda x: -x[1])[:k]))
        scores = evaluate(qrels, reranked, ["nDCG@10", "R@3"])
        click.echo("dense → adapter reranker:    " + ", ".join(f"{m} {v:.3f}" for m, v in scores.items()))


def _bm25_demo(root: Path, k: int) -> None:
    from xlir.demo import DEMO_LANGS, demo_docs, demo_qrels, demo_queries
    from xlir.eval.measures import evaluate
    from xlir.registry import RETRIEVERS
    from xlir.store import load_index

    docs = demo_docs()
    queries = demo_queries()
    click.echo(f"xlir demo — BM25: {len(docs)} documents in {', '.join(DEMO_LANGS)}; {len(queries)} queries\n")
    click.echo("BM25 matches words, so each query searches the index of its own language.")
    click.echo("(For cross-lingual search install the dense extra: pip install \"xlir[dense]\".)\n")
    run = {}
    for lang in DEMO_LANGS:
        bm25 = RETRIEVERS.create("bm25", lang=lang)
        bm25.index([d for d in docs if d.lang == lang])
        bm25.save(root / f"demo-{lang}.bm25", overwrite=True)
        index = load_index(root / f"demo-{lang}.bm25")
        lang_queries = [q for q in queries if q.lang == lang]
        lang_run = index.search(lang_queries, k=k)
        run.update(lang_run)
        for q in lang_queries:
            _show(index, q, lang_run[q.id])
    qrels = demo_qrels()
    same_lang = {q: {d: r for d, r in docs_.items() if r == 2} for q, docs_ in qrels.items()}
    scores = evaluate(same_lang, run, ["nDCG@10", "RR@10"])
    click.echo("same-language retrieval: " + ", ".join(f"{m} {v:.3f}" for m, v in scores.items()))
