"""Dense text encoders behind the :class:`xlir.protocols.Encoder` protocol.

Each encoder returns float32 vectors (L2-normalized unless asked otherwise) and an
``identity()`` dict recorded in index manifests, so that an index is never searched with
a different model than the one that built it.
"""

from __future__ import annotations

from typing import Any


def get_encoder(name: str, **params: Any):
    """Create an encoder by registry name (``sentence-transformers``, ``use-multilingual``, ``ct2``)."""
    from xlir.registry import ENCODERS

    return ENCODERS.create(name, **params)
