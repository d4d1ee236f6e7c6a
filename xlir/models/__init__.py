"""Models xlir can provide offline; importing this package loads no torch."""

from __future__ import annotations

from xlir.models.provision import (
    DEFAULT_NAMES,
    ProvisionError,
    e5_small_dir,
    offline_hint,
    provision_e5_small,
    resolve_model,
    xlir_home,
)

__all__ = [
    "DEFAULT_NAMES",
    "ProvisionError",
    "e5_small_dir",
    "offline_hint",
    "provision_e5_small",
    "resolve_model",
    "xlir_home",
]
