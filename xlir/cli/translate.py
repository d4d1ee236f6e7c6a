"""``xlir translate``, and the translation options of ``xlir index`` and ``xlir search``.

Kept light at import (click only): ``xlir index``/``search`` import the option decorators
from here, and ``xlir --help`` must not load ctranslate2.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from pathlib import Path
from typing import Any

import click

from xlir.distributed.options import engine_options

logger = logging.getLogger(__name__)


# -- shared helpers ---------------------------------------------------------------------
def open_translator(spec: str, params: tuple[str, ...] | list[str] = ()):
    """The translator ``NAME[:ARG]`` with ``KEY=VALUE`` parameters."""
    from xlir.params import parse_param_options
    from xlir.translate import get_translator

    return get_translator(spec, **parse_param_options(params))


def open_cache(cache_dir: Path | None, no_cache: bool, translator: Any = None):
    """The translation cache to use (closed when the command ends); None with ``no_cache``
    or for a translator that is not cached (``table``)."""
    if no_cache or (translator is not None and not getattr(translator, "cacheable", True)):
        return None
    from xlir.translate import TranslationCache
    from xlir.translate.cache import CACHE_FILE

    cache = TranslationCache(cache_dir / CACHE_FILE if cache_dir is not None else None)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(cache.close)
    logger.info("translation cache: %s", cache.path)
    return cache


@dataclasses.dataclass
class TranslationOptions:
    """The translation options given to ``xlir index`` or ``xlir search``."""

    translator: str | None = None
    translator_params: tuple[str, ...] = ()
    cache_dir: Path | None = None
    no_cache: bool = False
    translate_docs: bool = False
    translate_to: str | None = None
    translate_query: bool = False
    allow_lang_mismatch: bool = False

    # xlir index --------------------------------------------------------------------------
    def index_lang(self, lang: str) -> str:
        """The language the index will be in: --translate-to when translating, else --lang."""
        if self.translator and not self.translate_docs:
            raise click.UsageError("--translator needs --translate-docs")
        if self.translate_docs:
            if not self.translator:
                raise click.UsageError("--translate-docs needs --translator NAME[:ARG]")
            if not self.translate_to:
                raise click.UsageError("--translate-docs needs --translate-to LANG")
            from xlir.analysis import normalize_lang

            return normalize_lang(self.translate_to)  # it becomes the analyzer language too
        return lang

    def wrap_for_index(self, retriever: Any):
        """``retriever``, wrapped to translate documents when --translate-docs was given."""
        if not self.translate_docs:
            return retriever
        from xlir.translate import TranslatingRetriever

        translator = open_translator(self.translator, self.translator_params)
        return TranslatingRetriever(
            retriever, translator, translate_docs_to=self.translate_to,
            cache=open_cache(self.cache_dir, self.no_cache, translator),
        )

    # xlir search -------------------------------------------------------------------------
    def query_lang(self, query_lang: str | None) -> str | None:
        """--query-lang, normalized; checks the translation options."""
        if self.translator and not self.translate_query:
            raise click.UsageError("--translator needs --translate-query")
        if self.translate_query:
            if not self.translator:
                raise click.UsageError("--translate-query needs --translator NAME[:ARG]")
            if not query_lang:
                raise click.UsageError("--translate-query needs --query-lang LANG (the language the queries are in)")
            from xlir.translate import translation_lang

            return translation_lang(query_lang)  # may be a language xlir has no analyzer for
        if query_lang is None:
            return None
        from xlir.analysis import normalize_lang

        return normalize_lang(query_lang)

    def wrap_for_search(self, retriever: Any, query_lang: str | None):
        """``retriever`` wrapped to translate queries (--translate-query) and to refuse
        queries in the wrong language for an index of translated documents."""
        from xlir.translate import TranslatingRetriever

        translator = open_translator(self.translator, self.translator_params) if self.translate_query else None
        return TranslatingRetriever(
            retriever, translator, translate_queries=self.translate_query, query_lang=query_lang,
            cache=open_cache(self.cache_dir, self.no_cache, translator) if self.translate_query else None,
            allow_lang_mismatch=self.allow_lang_mismatch,
        )


_TRANSLATOR_HELP = "Translator NAME[:ARG]: ctranslate2:MODEL_DIR or table:FILE (see `xlir list`)."


def _common_options() -> list:
    return [
        click.option("--translator", metavar="NAME[:ARG]", help=_TRANSLATOR_HELP),
        click.option("--translator-param", "translator_params", multiple=True, metavar="KEY=VALUE",
                     help="Translator parameter, e.g. beam_size=4 (repeatable)."),
        click.option("--translation-cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Translation cache folder [default: $XLIR_HOME, ~/.cache/xlir]."),
        click.option("--no-translation-cache", "no_cache", is_flag=True, help="Do not read or write the translation cache."),
    ]


def _packing(names: tuple[str, ...], options: list):
    def decorator(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            values = {name: kwargs.pop(name) for name in names}
            return f(*args, translation=TranslationOptions(**values), **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorator


_COMMON = ("translator", "translator_params", "cache_dir", "no_cache")

#: ``xlir index`` options; the command receives them as ``translation: TranslationOptions``.
doc_translation_options = _packing(
    ("translate_docs", "translate_to", *_COMMON),
    [
        click.option("--translate-docs", is_flag=True, help="Translate the documents before indexing them."),
        click.option("--translate-to", metavar="LANG", help="Language to translate the documents into (the index's language)."),
        *_common_options(),
    ],
)

#: ``xlir search`` options; the command receives them as ``translation: TranslationOptions``.
query_translation_options = _packing(
    ("translate_query", "allow_lang_mismatch", *_COMMON),
    [
        click.option("--translate-query", is_flag=True,
                     help="Translate the queries from --query-lang into the index's document language first."),
        click.option("--allow-lang-mismatch", is_flag=True,
                     help="Search an index of translated documents with queries in another language anyway."),
        *_common_options(),
    ],
)


# -- xlir translate ------------------------------------------------------------------------
_QUERY_SUFFIXES = (".tsv", ".txt", ".tsv.gz", ".txt.gz")


def _kind_of(path: Path, kind: str) -> str:
    if kind != "auto":
        return kind
    return "queries" if path.name.lower().endswith(_QUERY_SUFFIXES) else "docs"


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--src", help="Source language of records without a lang field (ISO 639-1/639-3).")
@click.option("--tgt", required=True, help="Target language.")
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A ctranslate2 model folder (same as --translator ctranslate2:DIR).")
@click.option("--translator", metavar="NAME[:ARG]", help=_TRANSLATOR_HELP)
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
              help="Translator parameter, e.g. beam_size=4, batch_size=64, device=cuda (repeatable).")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: JSONL for a corpus; TSV or JSONL (by suffix) for queries.")
@click.option("--kind", type=click.Choice(["auto", "docs", "queries"]), default="auto", show_default=True,
              help="What INPUT holds; auto: queries for .tsv/.txt, a corpus for JSONL.")
@click.option("--no-split", is_flag=True, help="Translate each document whole instead of sentence by sentence.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Translation cache folder [default: $XLIR_HOME, ~/.cache/xlir].")
@click.option("--no-cache", is_flag=True, help="Do not read or write the translation cache (no resume).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@engine_options("Parts of the corpus to translate in parallel with --engine ray [default: one per worker].")
@click.pass_obj
def translate(state, input_path: Path, src, tgt, model_dir, translator, params, output: Path, kind, no_split,
              cache_dir, no_cache, overwrite, engine) -> None:
    """Translate a corpus (JSONL) or a query file (TSV/JSONL) from --src to --tgt.

    Translations are cached; a run that was interrupted resumes when run again (the
    finished batches are cache hits). The output is written atomically.
    """
    from xlir.errors import IndexExistsError
    from xlir.io import read_corpus, read_queries, write_corpus, write_queries
    from xlir.translate import TranslationStats, translate_docs, translate_queries, translation_lang

    if (model_dir is None) == (translator is None):
        raise click.UsageError("give exactly one of --model DIR or --translator NAME[:ARG]")
    if output.exists() and not overwrite:
        raise IndexExistsError(f"{output} already exists; pass --overwrite to replace it")
    src = translation_lang(src) if src else None
    tgt = translation_lang(tgt)
    spec = f"ctranslate2:{model_dir}" if model_dir is not None else translator
    if engine.distributed and _kind_of(input_path, kind) == "docs":
        from xlir.distributed.translate import TranslatorSpec, translate_corpus

        done = translate_corpus(input_path, output, TranslatorSpec(spec, tuple(params), str(cache_dir) if cache_dir else None,
                                no_cache), tgt=tgt, src=src, split=not no_split, shards=engine.shards,
                                address=engine.address, overwrite=overwrite, show_progress=state.show_progress)
        logger.info("wrote %d documents to %s in %.1fs (%.1f documents/s, %d shards, %d reused)", done["docs"], output,
                    done["seconds"], done["docs_per_s"], done["shards"], len(done["reused"]))
        click.echo(str(output))
        return
    mt = open_translator(spec, params)
    cache = open_cache(cache_dir, no_cache, mt)
    stats = TranslationStats()
    start = time.perf_counter()
    if _kind_of(input_path, kind) == "queries":
        queries = read_queries(input_path, lang=src)
        n = write_queries(translate_queries(queries, mt, tgt=tgt, cache=cache, show_progress=state.show_progress,
                                            stats=stats), output)
        what = "queries"
    else:
        docs = translate_docs(read_corpus(input_path, lang=src), mt, tgt=tgt, cache=cache, split=not no_split,
                              show_progress=state.show_progress, stats=stats)
        n = write_corpus(docs, output)  # streamed into a temporary file, renamed at the end
        what = "documents"
    elapsed = time.perf_counter() - start
    logger.info("wrote %d %s to %s in %.1fs (%.1f %s/s, %d segments, %d cache hits, %d truncated)",
                n, what, output, elapsed, n / max(elapsed, 1e-9), what, stats.segments, stats.cache_hits, stats.truncated)
    click.echo(str(output))
