"""``ctranslate2``: a converted OPUS-MT (Marian), NLLB-200 or M2M-100 model folder.

The folder is what ``ct2-transformers-converter --copy_files ...`` writes: ``model.bin``,
``config.json``, the vocabulary (``shared_vocabulary.json`` or source/target) and the
tokenizer copied from the Hugging Face model: ``source.spm`` + ``target.spm`` (OPUS-MT),
``sentencepiece.bpe.model`` (NLLB, M2M-100) or ``tokenizer.json``. The model family, and
so the language tokens it needs, is read from the vocabulary (see
:mod:`xlir.translate.languages`). Inputs longer than the model's limit are truncated and
counted, never silently.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, ClassVar, Iterable, Iterator, Sequence

from xlir.errors import MissingDependencyError, ParamError
from xlir.params import params_or_kwargs, params_to_dict
from xlir.translate.base import TranslationError
from xlir.translate.languages import detect_family, lang_token

__all__ = ["CT2Translator", "CT2Params", "model_digest"]

logger = logging.getLogger(__name__)

_INSTALL = 'pip install "xlir[translate]"'
#: The family's position limit (tokens, special tokens included) when max_input_length=0.
FAMILY_MAX_INPUT = {"marian": 512, "marian-multi": 512, "nllb": 1024, "m2m100": 1024}
_SHARED_SPM = ("sentencepiece.bpe.model", "spm.model", "sentencepiece.model", "tokenizer.model")
_SPECIAL = frozenset({"</s>", "<s>", "<pad>", "<unk>"})


@dataclasses.dataclass(frozen=True)
class CT2Params:
    """Decoding and runtime settings of the ``ctranslate2`` translator.

    ``device``: ``auto`` (CUDA when a GPU is visible), ``cpu`` or ``cuda``.
    ``compute_type``: ``auto`` is int8 on CPU and float16 on GPU, or any type ctranslate2
    knows (``float32``, ``int8_float16``...). ``max_input_length``: tokens per segment,
    0 for the model family's limit (OPUS-MT 512, NLLB/M2M-100 1024); longer segments are
    truncated and counted. ``batch_size``: segments per ctranslate2 batch.
    """

    device: str = "auto"
    compute_type: str = "auto"
    device_index: int = 0
    beam_size: int = 2
    batch_size: int = 32
    max_input_length: int = 0
    max_decoding_length: int = 256
    length_penalty: float = 1.0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    intra_threads: int = 0
    inter_threads: int = 1

    def validate(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ParamError(f"device must be auto, cpu or cuda, got {self.device!r}")
        for name in ("beam_size", "batch_size", "max_decoding_length", "inter_threads"):
            if getattr(self, name) < 1:
                raise ParamError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        for name in ("max_input_length", "intra_threads", "no_repeat_ngram_size", "device_index"):
            if getattr(self, name) < 0:
                raise ParamError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if 0 < self.max_input_length < 3:
            raise ParamError(f"max_input_length must be 0 (the model's limit) or >= 3, got {self.max_input_length}")


def model_digest(folder: Path) -> str:
    """A SHA-256 that changes when the model folder's content does, read in well under a second.

    Small files (config, vocabularies, tokenizers) are hashed whole; ``model.bin`` by its
    size and sixteen 1 MiB samples spread over it, so a multi-GB model is not read whole.
    """
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        size = path.stat().st_size
        h.update(f"{path.name}\0{size}\0".encode())
        with open(path, "rb") as f:
            if size <= 64 << 20:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            else:
                for i in range(16):
                    f.seek((size - (1 << 20)) * i // 15)
                    h.update(f.read(1 << 20))
    return h.hexdigest()


class _SentencePiece:
    def __init__(self, source: Path, target: Path):
        try:
            import sentencepiece as spm
        except ImportError:
            raise MissingDependencyError(f"translator 'ctranslate2' needs sentencepiece for {source.name}; run: {_INSTALL}") from None
        self.src = spm.SentencePieceProcessor(model_file=str(source))
        self.tgt = self.src if target == source else spm.SentencePieceProcessor(model_file=str(target))
        self.files = sorted({source.name, target.name})

    def encode(self, texts: Sequence[str]) -> list[list[str]]:
        return self.src.encode(list(texts), out_type=str)

    def decode(self, tokens: list[list[str]]) -> list[str]:
        return self.tgt.decode(tokens) if tokens else []


class _HFTokenizer:
    def __init__(self, path: Path):
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise MissingDependencyError(f"translator 'ctranslate2' needs tokenizers for {path.name}; run: pip install tokenizers") from None
        self.tok = Tokenizer.from_file(str(path))
        self.files = [path.name]

    def encode(self, texts: Sequence[str]) -> list[list[str]]:
        return [e.tokens for e in self.tok.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, tokens: list[list[str]]) -> list[str]:
        ids = [[i for i in map(self.tok.token_to_id, t) if i is not None] for t in tokens]
        return self.tok.decode_batch(ids, skip_special_tokens=True)


def _load_tokenizer(folder: Path):
    if (folder / "source.spm").is_file() and (folder / "target.spm").is_file():
        return _SentencePiece(folder / "source.spm", folder / "target.spm")
    for name in _SHARED_SPM:
        if (folder / name).is_file():
            return _SentencePiece(folder / name, folder / name)
    if (folder / "tokenizer.json").is_file():
        return _HFTokenizer(folder / "tokenizer.json")
    raise TranslationError(
        f"{folder}: no tokenizer found; expected source.spm and target.spm (OPUS-MT), "
        f"{' or '.join(_SHARED_SPM[:1])} (NLLB, M2M-100) or tokenizer.json. Convert with "
        "ct2-transformers-converter ... --copy_files source.spm target.spm (or sentencepiece.bpe.model)"
    )


def _read_vocabulary(folder: Path, side: str) -> list[str]:
    for name in (f"{side}_vocabulary", "shared_vocabulary"):
        if (folder / f"{name}.json").is_file():
            return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        if (folder / f"{name}.txt").is_file():
            return (folder / f"{name}.txt").read_text(encoding="utf-8").split("\n")[:-1]
    raise TranslationError(f"{folder}: no vocabulary file (shared_vocabulary.json or {side}_vocabulary.json); is this a ctranslate2 model folder?")


class CT2Translator:
    """Translates with a ctranslate2 model folder (see the module docstring).

    ``CT2Translator("models/opus-mt-de-en", beam_size=4)`` or ``get_translator("ctranslate2:DIR")``.
    Raises :class:`TranslationError` for a folder that is not a converted model with its
    tokenizer, :class:`MissingDependencyError` when ctranslate2/sentencepiece are missing,
    :class:`ParamError` for bad parameters.
    """

    name: ClassVar[str] = "ctranslate2"
    Params: ClassVar[type] = CT2Params

    def __init__(self, model: str | os.PathLike | None = None, params: CT2Params | None = None, **kwargs: Any):
        if model is None:
            raise TranslationError("translator 'ctranslate2' needs a model folder: ctranslate2:DIR (or --model DIR)")
        self.params: CT2Params = params_or_kwargs(CT2Params, params, kwargs)
        try:
            import ctranslate2
        except ImportError:
            raise MissingDependencyError(f"translator 'ctranslate2' needs ctranslate2, which is not installed; run: {_INSTALL}") from None
        self.path = Path(model)
        if not (self.path / "model.bin").is_file():
            raise TranslationError(
                f"{self.path}: not a ctranslate2 model folder (no model.bin); convert a Hugging Face model with "
                "ct2-transformers-converter (see the README)"
            )
        config = json.loads((self.path / "config.json").read_text(encoding="utf-8")) if (self.path / "config.json").is_file() else {}
        self._add_eos = not config.get("add_source_eos", False)
        self._eos = config.get("eos_token") or "</s>"
        self.vocabulary = frozenset(_read_vocabulary(self.path, "target"))
        self.source_vocabulary = frozenset(_read_vocabulary(self.path, "source"))
        self.family = detect_family(self.vocabulary | self.source_vocabulary)
        self.tokenizer = _load_tokenizer(self.path)
        self.max_input_length = self.params.max_input_length or FAMILY_MAX_INPUT[self.family]
        self.max_decoding_length = self.params.max_decoding_length
        self.batch_size = self.params.batch_size

        device = self.params.device
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        self.device = device
        self.compute_type = self._compute_type(ctranslate2, device)
        self.digest = model_digest(self.path)
        self._translator = ctranslate2.Translator(
            str(self.path), device=device, device_index=self.params.device_index, compute_type=self.compute_type,
            intra_threads=self.params.intra_threads, inter_threads=self.params.inter_threads,
        )
        self._special = _SPECIAL | {t for t in self.vocabulary if _is_lang_token(t, self.family)}
        logger.info("loaded %s model %s on %s (%s)", self.family, self.path, device, self.compute_type)

    def _compute_type(self, ctranslate2, device: str) -> str:
        wanted = self.params.compute_type
        supported = set(ctranslate2.get_supported_compute_types(device))
        if wanted != "auto":
            if wanted not in supported and wanted != "default":
                raise ParamError(f"compute_type {wanted!r} is not supported on {device}; supported: {', '.join(sorted(supported))}")
            return wanted
        for choice in (("float16", "int8_float16", "float32") if device == "cuda" else ("int8", "int8_float32", "float32")):
            if choice in supported:
                return choice
        return "default"

    # -- identity --------------------------------------------------------------------
    @property
    def identity(self) -> str:
        """``ctranslate2:<folder name>@<digest>``: the model, whatever folder it sits in."""
        return f"ctranslate2:{self.path.name}@{self.digest[:16]}"

    @property
    def cache_key(self) -> str:
        """The identity plus every setting that changes the output (cache rows are keyed by it)."""
        p = self.params
        settings = {
            "device": self.device, "compute_type": self.compute_type, "beam_size": p.beam_size,
            "max_input_length": self.max_input_length, "max_decoding_length": p.max_decoding_length,
            "length_penalty": p.length_penalty, "repetition_penalty": p.repetition_penalty,
            "no_repeat_ngram_size": p.no_repeat_ngram_size,
        }
        return f"{self.identity}|{json.dumps(settings, sort_keys=True)}"

    def describe(self) -> dict[str, Any]:
        return {
            "translator": self.name,
            "model": str(self.path),
            "identity": self.identity,
            "family": self.family,
            "device": self.device,
            "compute_type": self.compute_type,
            "params": params_to_dict(self.params),
        }

    # -- translation -------------------------------------------------------------------
    def prepare(self, texts: Sequence[str], *, src: str, tgt: str) -> tuple[list[list[str]], list[list[str]] | None, int]:
        """Source tokens for ``texts``, the target prefix (or None) and how many were truncated."""
        family = self.family
        src_tok = lang_token(src, family, self.source_vocabulary) if family in ("nllb", "m2m100") else None
        tgt_tok = lang_token(tgt, family, self.vocabulary if family != "marian-multi" else self.source_vocabulary)
        if family == "marian":
            lang_token(src, family)  # an unknown code is an error for every family
        head = [src_tok] if src_tok else [tgt_tok] if family == "marian-multi" else []
        tail = [self._eos] if self._add_eos else []
        limit = self.max_input_length - len(head) - len(tail)
        truncated = 0
        sources = []
        for pieces in self.tokenizer.encode(texts):
            if len(pieces) > limit:
                pieces = pieces[:limit]
                truncated += 1
            sources.append(head + pieces + tail)
        prefix = [[tgt_tok] for _ in texts] if family in ("nllb", "m2m100") else None
        return sources, prefix, truncated

    def _submit(self, sources: list[list[str]], prefix: list[list[str]] | None, *, asynchronous: bool):
        p = self.params
        return self._translator.translate_batch(
            sources, target_prefix=prefix, max_batch_size=p.batch_size, batch_type="examples",
            beam_size=p.beam_size, max_input_length=0, max_decoding_length=p.max_decoding_length,
            length_penalty=p.length_penalty, repetition_penalty=p.repetition_penalty,
            no_repeat_ngram_size=p.no_repeat_ngram_size, asynchronous=asynchronous,
        )

    def translate_tokens(self, sources: list[list[str]], prefix: list[list[str]] | None) -> list[list[str]]:
        """``ctranslate2.Translator.translate_batch`` with this translator's settings; best hypothesis each."""
        return [r.hypotheses[0] for r in self._submit(sources, prefix, asynchronous=False)]

    def _finish(self, hypotheses: list[list[str]], truncated: int) -> tuple[list[str], int, int]:
        cut = sum(len(h) >= self.params.max_decoding_length for h in hypotheses)
        special = self._special
        hypotheses = [h if special.isdisjoint(h) else [t for t in h if t not in special] for h in hypotheses]
        return self.tokenizer.decode(hypotheses), truncated, cut

    def translate_counting(self, texts: Sequence[str], *, src: str, tgt: str) -> tuple[list[str], int, int]:
        """Translations, the number of inputs truncated and of outputs that hit max_decoding_length."""
        if not texts:
            return [], 0, 0
        sources, prefix, truncated = self.prepare(texts, src=src, tgt=tgt)
        return self._finish(self.translate_tokens(sources, prefix), truncated)

    def translate_groups(self, groups: Iterable[Sequence[str]], *, src: str, tgt: str) -> Iterator[tuple[list[str], int, int]]:
        """:meth:`translate_counting` of each group in turn, pipelined: group i+1 is tokenized
        and queued on ctranslate2's workers before group i's results are collected and
        detokenized, so the model never waits for Python."""
        pending = None
        for texts in groups:
            sources, prefix, truncated = self.prepare(texts, src=src, tgt=tgt)
            submitted = (self._submit(sources, prefix, asynchronous=True), truncated)
            if pending is not None:
                yield self._collect(*pending)
            pending = submitted
        if pending is not None:
            yield self._collect(*pending)

    def _collect(self, results: list, truncated: int) -> tuple[list[str], int, int]:
        return self._finish([r.result().hypotheses[0] for r in results], truncated)

    def translate(self, texts: Sequence[str], *, src: str, tgt: str) -> list[str]:
        """Translate each text whole (no sentence splitting; see :func:`xlir.translate.translate_texts`)."""
        out, truncated, cut = self.translate_counting(texts, src=src, tgt=tgt)
        if truncated:
            logger.warning("%d of %d texts were longer than %d tokens and were truncated", truncated, len(texts), self.max_input_length)
        if cut:
            logger.warning("%d of %d translations stopped at max_decoding_length=%d", cut, len(texts), self.params.max_decoding_length)
        return out

    def __repr__(self) -> str:
        return f"CT2Translator({str(self.path)!r}, family={self.family!r}, device={self.device!r})"


def _is_lang_token(token: str, family: str) -> bool:
    from xlir.translate.languages import _looks_like

    return family != "marian" and _looks_like(token, family)
