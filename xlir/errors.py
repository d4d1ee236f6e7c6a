"""Exceptions raised by xlir. The CLI turns any :class:`XlirError` into a one-line message."""

from __future__ import annotations

__all__ = [
    "XlirError",
    "InputError",
    "IndexFormatError",
    "IndexExistsError",
    "UnknownLanguageError",
    "UnknownComponentError",
    "MissingDependencyError",
    "ParamError",
]


class XlirError(Exception):
    """Base class of every error xlir raises on purpose."""


class InputError(XlirError, ValueError):
    """Malformed input data; the message names the file and line where known."""

    def __init__(self, message: str, *, path: object = None, line: int | None = None):
        self.path = path
        self.line = line
        if path is not None:
            where = f"{path}:{line}" if line is not None else f"{path}"
            message = f"{where}: {message}"
        super().__init__(message)


class IndexFormatError(XlirError, ValueError):
    """A folder that is not a valid xlir index (missing/corrupt manifest, newer format...)."""


class IndexExistsError(XlirError, FileExistsError):
    """The output path exists and overwriting was not asked for."""


class UnknownLanguageError(XlirError, ValueError):
    """A language code xlir has no analyzer for."""


class UnknownComponentError(XlirError, KeyError):
    """An unknown retriever/reranker/translator/encoder name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ParamError(XlirError, ValueError):
    """An unknown or badly typed component parameter."""


class MissingDependencyError(XlirError, ImportError):
    """An optional dependency is not installed; the message says which extra to install."""
