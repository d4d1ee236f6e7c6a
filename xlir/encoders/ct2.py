"""CPU fast path: BERT-family sentence-transformers models run by ctranslate2 (int8).

The model folder is converted once with ctranslate2's own converter into the xlir cache
and reused; pooling (mean or CLS), prompts and normalization follow the
sentence-transformers folder so vectors match the fp32 model closely.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from xlir.encoders.base import ModelLoadError, folder_fingerprint, offline_hint

logger = logging.getLogger(__name__)


class CT2Encoder:
    name: ClassVar[str] = "ct2"

    def __init__(
        self,
        model: str = "multilingual-e5-small",
        *,
        device: str = "auto",
        compute_type: str = "auto",
        # ctranslate2 on a small CPU runs batches of 4-16 about twice as fast per passage as
        # batches of 32 (padding and cache effects; benchmarks/dense_speed.py)
        batch_size: int = 16,
        max_length: int | None = None,
        threads: int = 0,
        normalize: bool = True,
    ):
        self.model_name = model
        self.device = device
        self.compute_type = compute_type
        self.batch_size = batch_size
        self.max_length = max_length
        self.threads = threads
        self.normalize = normalize
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        import ctranslate2
        from tokenizers import Tokenizer

        from xlir.models.provision import resolve_model, xlir_home

        src = Path(resolve_model(self.model_name))
        if not src.is_dir():
            raise ModelLoadError(
                offline_hint(self.model_name) + "; the ct2 encoder needs a local sentence-transformers folder"
            )
        device = self.device
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        compute = self.compute_type
        if compute == "auto":
            compute = "int8_float16" if device == "cuda" else "int8"
        self._fingerprint = folder_fingerprint(src)
        converted = xlir_home() / "ct2" / f"{src.name}-{self._fingerprint.split(':')[1]}-int8"
        if not (converted / "model.bin").exists():
            _convert(src, converted)
        self._encoder = ctranslate2.Encoder(
            str(converted), device=device, compute_type=compute, intra_threads=self.threads or (os.cpu_count() or 1)
        )
        self._tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
        st_cfg = _read_json(src / "sentence_bert_config.json")
        self._max_length = self.max_length or int(st_cfg.get("max_seq_length", 512))
        self._tokenizer.enable_truncation(self._max_length)
        self._tokenizer.no_padding()
        pool = _read_json(src / "1_Pooling" / "config.json")
        self._pooling = "cls" if pool.get("pooling_mode_cls_token") else "mean"
        prompts = _read_json(src / "config_sentence_transformers.json").get("prompts") or {}
        self.query_prompt = prompts.get("query", "")
        self.doc_prompt = next((prompts[k] for k in ("passage", "document", "doc") if k in prompts), "")
        self.dim = int(_read_json(src / "config.json")["hidden_size"])
        self._device, self._compute = device, compute
        self._loaded = True
        logger.info("ct2 encoder %s (%s, %s) from %s", self.model_name, device, compute, converted)

    def identity(self) -> dict[str, Any]:
        """Same identity fields as the sentence-transformers encoder, so indexes can be compared."""
        self._load()
        return {
            "encoder": self.name,
            "model": self.model_name,
            "revision": self._fingerprint,
            "prompts": {"query": self.query_prompt, "doc": self.doc_prompt},
            "dim": self.dim,
            "max_length": self._max_length,
            "normalize": self.normalize,
            "compute_type": self._compute,
        }

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        self._load()
        if not len(texts):
            return np.zeros((0, self.dim), np.float32)
        encs = self._tokenizer.encode_batch([prompt + t for t in texts])
        ids = [e.ids for e in encs]
        order = np.argsort([len(x) for x in ids], kind="stable")  # similar lengths share a batch
        out = np.zeros((len(texts), self.dim), np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            batch = [ids[i] for i in rows]
            hidden = np.asarray(self._encoder.forward_batch(batch).last_hidden_state, dtype=np.float32)
            if self._pooling == "cls":
                pooled = hidden[:, 0]
            else:
                lengths = np.array([len(x) for x in batch])
                mask = (np.arange(hidden.shape[1])[None, :] < lengths[:, None]).astype(np.float32)
                pooled = (hidden * mask[:, :, None]).sum(1) / lengths[:, None]
            out[rows] = pooled
        if self.normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self._load()
        return self._encode(texts, self.query_prompt)

    def encode_docs(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self._load()
        return self._encode(texts, self.doc_prompt)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _convert(src: Path, dst: Path) -> None:
    """Convert the transformer inside ``src`` with ctranslate2's converter, atomically."""
    from ctranslate2.converters import TransformersConverter

    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.tmp-", dir=dst.parent))
    try:
        out = tmp / "model"
        TransformersConverter(str(src)).convert(str(out), quantization="int8", force=True)
        os.replace(out, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("converted %s to ctranslate2 int8 in %s", src, dst)
