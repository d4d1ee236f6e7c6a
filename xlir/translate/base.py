"""Translator plumbing shared by every translator: errors, statistics, ``NAME[:ARG]`` specs."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from xlir.errors import XlirError

__all__ = ["TranslationError", "TranslationStats", "parse_translator_spec", "get_translator", "describe_translator"]

logger = logging.getLogger(__name__)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


class TranslationError(XlirError, ValueError):
    """A translation that cannot be made: a missing table entry, a bad model folder..."""


@dataclasses.dataclass
class TranslationStats:
    """What a translation run did; filled in as it goes, logged at the end."""

    items: int = 0  # documents or queries seen
    translated_items: int = 0  # of them, the ones that needed translating (not already in the target language)
    segments: int = 0  # sentences (or whole texts) to translate, repeats included
    unique_segments: int = 0
    cache_hits: int = 0  # unique segments found in the cache
    model_segments: int = 0  # unique segments the model translated
    truncated: int = 0  # segments cut at the model's input limit
    output_truncated: int = 0  # translations that reached the decoding length limit
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def summary(self, what: str = "texts") -> str:
        rate = self.items / self.seconds if self.seconds > 0 else float("inf")
        hit_rate = f" ({100 * self.cache_hits / self.unique_segments:.0f}%)" if self.unique_segments else ""
        return (
            f"translated {self.translated_items} of {self.items} {what} in {self.seconds:.1f}s ({rate:.1f} {what}/s): "
            f"{self.segments} segments, {self.unique_segments} unique, {self.cache_hits} cache hits{hit_rate}, "
            f"{self.model_segments} newly translated"
        )


def parse_translator_spec(spec: str) -> tuple[str, str | None]:
    """Split ``NAME[:ARG]`` into ``(name, arg)``; ``arg`` is None without a colon.

    Only the first colon separates, so ARG may hold colons (``table:C:/data/t.jsonl``).
    Raises :class:`TranslationError` for an empty or malformed name or an empty ARG.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise TranslationError("empty translator; expected NAME or NAME:ARG, e.g. ctranslate2:models/opus-mt-de-en")
    name, sep, arg = spec.strip().partition(":")
    if not _NAME.fullmatch(name):
        raise TranslationError(f"bad translator {spec!r}; expected NAME or NAME:ARG, e.g. table:translations.jsonl")
    if sep and not arg:
        raise TranslationError(f"translator {spec!r}: nothing after ':'; expected NAME:ARG")
    return name, (arg if sep else None)


def get_translator(spec: str, arg: str | None = None, **params: Any):
    """Create a translator from ``NAME[:ARG]`` (or ``NAME`` and ``arg``) and its parameters.

    ``ctranslate2:DIR`` loads a converted model folder; ``table:FILE`` reads a table of
    translations. Raises :class:`UnknownComponentError` for an unknown name (with a
    suggestion), :class:`MissingDependencyError` with the ``pip install`` to run, and
    :class:`ParamError` for unknown parameters.
    """
    from xlir.registry import TRANSLATORS

    name, spec_arg = parse_translator_spec(spec)
    if spec_arg is not None and arg is not None:
        raise TranslationError(f"translator {spec!r} already names its argument; do not pass arg={arg!r} too")
    arg = spec_arg if spec_arg is not None else arg
    cls = TRANSLATORS.get(name)
    return cls(arg, **params) if arg is not None else cls(**params)


def describe_translator(translator: Any) -> dict[str, Any]:
    """What an index manifest records about a translator: name, model, identity, parameters."""
    describe = getattr(translator, "describe", None)
    if describe is not None:
        return dict(describe())
    return {"translator": getattr(translator, "name", type(translator).__name__),
            "identity": getattr(translator, "identity", None)}
