"""``xlir demo``: index the bundled sample corpus, search it, evaluate — all offline."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click


@click.command()
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the demo indexes here (default: a temporary folder).")
@click.option("-k", "k", type=click.IntRange(min=1), default=3, show_default=True, help="Results shown per query.")
@click.pass_obj
def demo(state, output: Path | None, k: int) -> None:
    """Offline demo on a small French/German/Spanish/English sample corpus."""
    from xlir.demo import DEMO_LANGS, demo_docs, demo_qrels, demo_queries
    from xlir.eval.measures import evaluate
    from xlir.registry import RETRIEVERS
    from xlir.store import load_index

    import logging

    if not state.debug:  # the demo's own output says what happens; keep the log to warnings
        logging.getLogger("xlir").setLevel(logging.WARNING)
    docs = demo_docs()
    queries = demo_queries()
    with tempfile.TemporaryDirectory(prefix="xlir-demo-") as tmp:
        root = output or Path(tmp)
        click.echo(f"xlir demo: {len(docs)} documents in {', '.join(DEMO_LANGS)}; {len(queries)} queries\n")
        click.echo("BM25 matches words, so each query searches the index of its own language.")
        click.echo("(Cross-lingual search arrives with the dense retriever: pip install \"xlir[dense]\".)\n")
        run = {}
        for lang in DEMO_LANGS:
            bm25 = RETRIEVERS.create("bm25", lang=lang)
            bm25.index([d for d in docs if d.lang == lang])
            path = root / f"demo-{lang}.bm25"
            bm25.save(path, overwrite=True)
            index = load_index(path)  # memory-mapped, as a user would
            lang_queries = [q for q in queries if q.lang == lang]
            lang_run = index.search(lang_queries, k=k)
            run.update(lang_run)
            for q in lang_queries:
                click.echo(f"[{lang}] {q.text}")
                hits = sorted(lang_run[q.id].items(), key=lambda x: (-x[1], x[0]))
                for rank, (docid, score) in enumerate(hits, 1):
                    doc = index.docs[docid]
                    click.echo(f"   {rank}. {score:6.3f}  {docid:<14} {doc.title}")
                click.echo("")
        qrels = demo_qrels()
        same_lang = {q: {d: r for d, r in docs_.items() if r == 2} for q, docs_ in qrels.items()}
        scores = evaluate(same_lang, run, ["nDCG@10", "RR@10"])
        click.echo("same-language retrieval: " + ", ".join(f"{m} {v:.3f}" for m, v in scores.items()))
        if output:
            click.echo(f"indexes kept in {output}")
