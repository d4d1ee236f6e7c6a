"""Component parameters: one frozen dataclass per component.

The dataclass is the constructor's arguments, the manifest's ``params`` and what
``--param key=value`` on the CLI parses into.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, Mapping, TypeVar

from xlir.errors import ParamError

P = TypeVar("P")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(name: str, value: Any, annotation: Any) -> Any:
    if not isinstance(value, str):
        return value
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        if value.lower() in {"none", "null"}:
            return None
        annotation = args[0] if args else str
    if annotation is bool:
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ParamError(f"parameter {name!r}: expected a boolean (true/false), got {value!r}")
    if annotation in (int, float):
        try:
            return annotation(value)
        except ValueError:
            raise ParamError(
                f"parameter {name!r}: expected {annotation.__name__}, got {value!r}"
            ) from None
    if annotation in (dict, list) or typing.get_origin(annotation) in (dict, list):
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise ParamError(f"parameter {name!r}: expected JSON, got {value!r} ({e})") from None
    return value


def params_or_kwargs(cls: type[P], params: P | None, kwargs: Mapping[str, Any], **positional: Any) -> P:
    """A component's params: ``params`` as given, or ``cls`` built from ``kwargs`` plus the
    positional arguments that are not ``None`` (as strings: a model name or folder). Both a
    params object and keyword values is a :class:`TypeError`."""
    extra = {k: str(v) for k, v in positional.items() if v is not None}
    if params is not None and (kwargs or extra):
        raise TypeError("pass either a params object or keyword parameters, not both")
    return params if params is not None else make_params(cls, {**kwargs, **extra})


def make_params(cls: type[P], values: Mapping[str, Any] | None = None, **overrides: Any) -> P:
    """Build the params dataclass ``cls`` from ``values`` (strings are converted to field types).

    Raises :class:`ParamError` on unknown keys (listing the valid ones) or bad values.
    """
    merged = dict(values or {})
    merged.update(overrides)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(merged) - set(fields))
    if unknown:
        raise ParamError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for {cls.__name__}; "
            f"valid: {', '.join(sorted(fields))}"
        )
    kwargs = {k: _convert(k, v, hints[k]) for k, v in merged.items()}
    try:
        params = cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ParamError(f"{cls.__name__}: {e}") from None
    validate = getattr(params, "validate", None)
    if validate is not None:
        validate()
    return params


def parse_param_options(options: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Parse CLI ``KEY=VALUE`` strings into a dict (later keys win)."""
    out: dict[str, str] = {}
    for opt in options:
        key, sep, value = opt.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"--param expects KEY=VALUE, got {opt!r}")
        out[key.strip()] = value
    return out


def params_to_dict(params: Any) -> dict[str, Any]:
    return dataclasses.asdict(params)
