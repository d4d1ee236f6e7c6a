"""Checks shared by the readers of structured spec files (pipelines, bench grids).

Errors are :class:`ParamError` that name the file (``source``) and the place in it
(``where``, e.g. ``stages[1].k``).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from xlir.errors import ParamError


def fail(where: str, message: str, source: str | None) -> ParamError:
    """The error to raise for ``where`` in ``source``."""
    prefix = f"{source}: " if source else ""
    return ParamError(f"{prefix}{where}: {message}")


def check_keys(obj: Mapping, valid: Sequence[str], where: str, source: str | None) -> None:
    """Refuse keys of ``obj`` not in ``valid``."""
    unknown = sorted(set(obj) - set(valid))
    if unknown:
        raise fail(where, f"unknown key(s) {', '.join(map(repr, unknown))}; valid: {', '.join(valid)}", source)


def positive_int(value: Any, where: str, source: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail(where, f"expected a positive integer, got {value!r}", source)
    return value


def mapping(value: Any, where: str, source: str | None) -> dict:
    """``value`` as a dict (``{}`` for None); anything else but a mapping is refused."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise fail(where, f"expected a mapping, got {type(value).__name__}", source)
    return dict(value)
