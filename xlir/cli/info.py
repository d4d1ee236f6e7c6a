"""``xlir info`` and ``xlir list``."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("index_path", metavar="INDEX", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the whole manifest as JSON.")
def info(index_path: Path, as_json: bool) -> None:
    """Describe the index at INDEX (from its manifest)."""
    from xlir.store import read_manifest

    manifest = read_manifest(index_path)
    if as_json:
        click.echo(json.dumps(manifest, indent=2, ensure_ascii=False))
        return
    size = sum(int(e.get("bytes", 0)) for e in manifest["files"].values() if isinstance(e, dict))
    n_files = len(manifest["files"])
    segments = manifest.get("segments") if manifest.get("segmented") else None
    for seg in segments or []:
        files = read_manifest(index_path / seg["name"], check_files=False)["files"]
        size += sum(int(e.get("bytes", 0)) for e in files.values() if isinstance(e, dict))
        n_files += len(files)
    click.echo(f"index:      {index_path}")
    click.echo(f"retriever:  {manifest['retriever']}")
    click.echo(f"documents:  {manifest['doc_count']}")
    click.echo(f"languages:  {', '.join(manifest.get('languages') or []) or '-'}")
    click.echo(f"params:     {json.dumps(manifest['params'], ensure_ascii=False)}")
    for key in ("analyzer", "encoder", "plaid", "translation", "stats"):
        if key in manifest:
            click.echo(f"{key + ':':<11} {json.dumps(manifest[key], ensure_ascii=False)}")
    if segments is not None:
        parts = [f"{seg['name']} {seg['doc_count']} docs" + (f" ({seg['deleted']} deleted)" if seg.get("deleted") else "")
                 for seg in segments]
        click.echo(f"segments:   {len(segments)}: {', '.join(parts)}")
    click.echo(f"size:       {size / 1e6:.2f} MB in {n_files} files")
    click.echo(f"format:     {manifest['format']} v{manifest['format_version']}, xlir {manifest.get('xlir_version')}, {manifest.get('created_utc')}")


@click.command("list")
def list_components() -> None:
    """List registered components and whether their dependencies are installed."""
    from xlir.registry import ENCODERS, RERANKERS, RETRIEVERS, TRANSLATORS

    for registry in (RETRIEVERS, RERANKERS, TRANSLATORS, ENCODERS):
        for name in registry.names():
            entry = registry.entry(name)
            ok = registry.is_available(name)
            status = "installed" if ok else f"missing: pip install \"xlir[{entry.extra}]\""
            click.echo(f"{registry.kind:<11} {name:<16} {status:<40} {entry.description}")
