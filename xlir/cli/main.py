"""The ``xlir`` command: a click group whose commands live one per module.

Commands are thin: parse, call the library, write. Heavy libraries are imported inside
the command bodies so that ``xlir --help`` stays fast.
"""

from __future__ import annotations

import logging
import sys

import click

from xlir import __version__

_COMMANDS = {
    "index": "xlir.cli.index:index",
    "search": "xlir.cli.search:search",
    "eval": "xlir.cli.evaluate:evaluate",
    "fuse": "xlir.cli.fuse:fuse",
    "datasets": "xlir.cli.datasets:datasets",
    "info": "xlir.cli.info:info",
    "compact": "xlir.cli.compact:compact",
    "list": "xlir.cli.info:list_components",
    "demo": "xlir.cli.demo:demo",
    "translate": "xlir.cli.translate:translate",
    "bench": "xlir.cli.bench:bench",
    "train-reranker": "xlir.cli.train_reranker:train_reranker",
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (or help lists it)."""

    def list_commands(self, ctx):
        return sorted(_COMMANDS)

    def get_command(self, ctx, name):
        target = _COMMANDS.get(name)
        if target is None:
            return None
        import importlib

        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (it may be swapped, e.g. by tests)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


class CliState:
    def __init__(self, quiet: bool, debug: bool):
        self.quiet = quiet
        self.debug = debug

    @property
    def show_progress(self) -> bool | None:
        return False if self.quiet else None  # None: only when stderr is a terminal


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xlir")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors; no progress bars.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool, debug: bool) -> None:
    """xlir: cross-lingual information retrieval — index, search, evaluate."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("xlir")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    ctx.obj = CliState(quiet=quiet, debug=debug or verbose)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the CLI, turning xlir errors into a one-line message and exit code 1."""
    from xlir.errors import XlirError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="xlir", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except (XlirError, OSError) as e:
        if debug:
            raise
        click.echo(f"error: {e}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
