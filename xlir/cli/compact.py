"""``xlir compact``: merge the segments of an index into one."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click

logger = logging.getLogger(__name__)


@click.command()
@click.argument("index_path", metavar="INDEX", type=click.Path(path_type=Path))
@click.pass_obj
def compact(state, index_path: Path) -> None:
    """Merge the segments of INDEX into one, dropping documents replaced by --upsert.

    Search results stay the same. bm25 and dense merge their stored postings and vectors;
    splade re-encodes the stored document text (refused for store_text=false).
    """
    from xlir.segments import compact as compact_index

    start = time.perf_counter()
    before = _segments(index_path)
    manifest = compact_index(index_path, show_progress=state.show_progress)
    logger.info("%s: %d segment(s) -> %d, %d documents in %.1fs", index_path, before,
                len(manifest.get("segments") or [None]), manifest["doc_count"], time.perf_counter() - start)
    click.echo(str(index_path))


def _segments(path: Path) -> int:
    from xlir.store import read_manifest

    return len(read_manifest(path).get("segments") or [None])
