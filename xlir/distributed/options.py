"""``--engine``, ``--address`` and ``--shards`` for ``xlir index``, ``translate`` and ``search``.

Light at import (click only), as ``xlir --help`` imports the commands' decorators.
"""

from __future__ import annotations

import dataclasses
import functools

import click

__all__ = ["EngineOptions", "engine_options"]


@dataclasses.dataclass(frozen=True)
class EngineOptions:
    """Where a command runs: ``local`` (in this process) or ``ray`` (on a Ray cluster)."""

    engine: str = "local"
    address: str | None = None
    shards: int | None = None

    @property
    def distributed(self) -> bool:
        if self.engine == "local" and (self.address is not None or self.shards is not None):
            raise click.UsageError("--address and --shards need --engine ray")
        return self.engine == "ray"


def engine_options(shards_help: str):
    """Add the engine options; the command receives them as ``engine: EngineOptions``."""
    options = [
        click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                     help="local: run in this process; ray: run shards on a Ray cluster (pip install \"xlir[ray]\")."),
        click.option("--address", metavar="HOST:PORT",
                     help="Ray cluster to use with --engine ray [default: $RAY_ADDRESS, else a Ray instance started here]."),
        click.option("--shards", type=click.IntRange(min=1), help=shards_help),
    ]

    def decorator(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            values = {name: kwargs.pop(name) for name in ("engine", "address", "shards")}
            return f(*args, engine=EngineOptions(**values), **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorator
