"""Progress bars: tqdm on stderr, silent when stderr is not a terminal or when disabled."""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def progress_enabled(show_progress: bool | None) -> bool:
    """``None`` means: show only when stderr is a terminal."""
    if show_progress is None:
        return sys.stderr.isatty()
    return bool(show_progress) and sys.stderr.isatty()


def progress(
    iterable: Iterable[T],
    *,
    show_progress: bool | None = False,
    total: int | None = None,
    desc: str | None = None,
    unit: str = "it",
) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar on stderr when enabled, else return it unchanged."""
    if not progress_enabled(show_progress):
        return iter(iterable)
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True))
