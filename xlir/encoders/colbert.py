"""Token-level (late interaction) encoder: one L2-normalized vector per token.

Three model layouts load from a local folder (or a name the Hugging Face cache holds):

* **Stanford ColBERT** (``colbert-ir/colbertv2.0``, ColBERT-X...): ``config.json`` of the base
  model plus ``artifact.metadata`` (the ColBERT config: ``dim``, ``query_token_id`` ``[unused0]``,
  ``doc_token_id`` ``[unused1]``, ``query_maxlen``, ``doc_maxlen``, ``attend_to_mask_tokens``)
  and weights whose base model sits under its usual prefix (``bert.``) next to ``linear.weight``;
* **PyLate** (``lightonai/*``, jina-colbert, answerai-colbert converted): a sentence-transformers
  folder whose ``modules.json`` has a ``Dense`` module (``1_Dense/config.json`` + weights with
  ``linear.weight``) and whose ``config_sentence_transformers.json`` carries ``query_prefix``,
  ``document_prefix``, ``query_length``, ``document_length``;
* **any other encoder** (the offline default ``multilingual-e5-small``): the contextual token
  vectors of the model as they are, no projection. Its markers are the model's own prompts
  (e5: ``"query: "`` / ``"passage: "``), prepended as text; the prompt's tokens are not kept.
  This is zero-shot late interaction: the model was never trained for MaxSim.

A marker that is one vocabulary token (``[unused0]``, ``[Q]``) is inserted right after the
first special token, as ColBERT and PyLate do. Queries are padded with the mask token up to
``query_maxlen`` (query augmentation); document punctuation (every vocabulary entry made only
of punctuation, in any script) is dropped, and for the plain-encoder layout special tokens
too, since they were never trained to match anything.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from xlir.encoders.base import ModelLoadError, folder_fingerprint, offline_hint, pick_device

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "multilingual-e5-small"


def detect_layout(folder: Path) -> str:
    """``stanford``, ``pylate`` or ``plain`` for a local model folder."""
    if (folder / "artifact.metadata").is_file():
        return "stanford"
    modules = folder / "modules.json"
    if modules.is_file():
        try:
            entries = json.loads(modules.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ModelLoadError(f"{modules}: not JSON ({e})") from None
        if any(str(m.get("type", "")).endswith("Dense") for m in entries):
            return "pylate"
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    if "HF_ColBERT" in (config.get("architectures") or []):
        return "stanford"
    return "plain"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"cannot read {path}: {e}") from None


def _state_dict(folder: Path) -> dict:
    import torch

    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        return load_file(str(folder / "model.safetensors"))
    if (folder / "pytorch_model.bin").is_file():
        return torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise ModelLoadError(f"{folder}: no model.safetensors or pytorch_model.bin")


def _is_punct(token: str) -> bool:
    core = token.replace("▁", "").replace("Ġ", "").lstrip("#")
    return bool(core) and all(unicodedata.category(c).startswith("P") for c in core)


class ColBERTEncoder:
    """Per-token vectors for late interaction (see the module docstring).

    ``encode_queries`` returns one ``(tokens, dim)`` float32 array per query;
    ``encode_docs`` returns ``(vectors, lengths)``: all documents' token vectors stacked, and
    the number of vectors of each (always >= 1).
    """

    name: ClassVar[str] = "colbert"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "auto",
        batch_size: int = 32,
        query_maxlen: int | None = None,
        doc_maxlen: int | None = None,
        query_augment: bool = True,
    ):
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self._query_maxlen = query_maxlen
        self._doc_maxlen = doc_maxlen
        self.query_augment = query_augment
        self._loaded = False

    # -- loading -------------------------------------------------------------------------
    def _ensure(self) -> None:
        if not self._loaded:
            self._load()
            self._loaded = True

    def _load(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from xlir.models.provision import resolve_model

        path = Path(resolve_model(self.model_name))
        if not path.is_dir():
            path = self._from_hf_cache(str(path))
        layout = detect_layout(path)
        device = pick_device(self.device)
        q_marker = d_marker = ""
        query_maxlen, doc_maxlen, attend_masks = 32, 512, False
        linear = None
        base = path
        if layout == "stanford":
            meta = _read_json(path / "artifact.metadata")
            q_marker, d_marker = meta.get("query_token_id", "[unused0]"), meta.get("doc_token_id", "[unused1]")
            query_maxlen, doc_maxlen = int(meta.get("query_maxlen", 32)), int(meta.get("doc_maxlen", 180))
            attend_masks = bool(meta.get("attend_to_mask_tokens", False))
            weight = _state_dict(path).get("linear.weight")
            if weight is None:
                raise ModelLoadError(f"{path}: Stanford ColBERT checkpoint without linear.weight")
            linear = weight
        elif layout == "pylate":
            st = _read_json(path / "config_sentence_transformers.json")
            q_marker, d_marker = st.get("query_prefix", "[Q] "), st.get("document_prefix", "[D] ")
            query_maxlen, doc_maxlen = int(st.get("query_length", 32)), int(st.get("document_length", 180))
            attend_masks = bool(st.get("attend_to_expansion_tokens", False))
            modules = _read_json(path / "modules.json")
            dense = [m for m in modules if str(m.get("type", "")).endswith("Dense")]
            trans = [m for m in modules if str(m.get("type", "")).endswith("Transformer")]
            base = path / trans[0].get("path", "") if trans else path
            dense_dir = path / dense[0]["path"]
            dense_cfg = _read_json(dense_dir / "config.json")
            if dense_cfg.get("bias"):
                raise ModelLoadError(f"{dense_dir}: a Dense layer with bias is not a ColBERT projection")
            act = str(dense_cfg.get("activation_function", "Identity"))
            if not act.endswith("Identity"):
                raise ModelLoadError(f"{dense_dir}: activation {act} is not supported (ColBERT uses Identity)")
            linear = _state_dict(dense_dir).get("linear.weight")
            if linear is None:
                raise ModelLoadError(f"{dense_dir}: no linear.weight in the Dense module's weights")
        else:
            st_cfg = path / "config_sentence_transformers.json"
            prompts = _read_json(st_cfg).get("prompts") or {} if st_cfg.is_file() else {}
            q_marker = prompts.get("query", "")
            d_marker = prompts.get("passage", prompts.get("document", ""))
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(base))
            model = AutoModel.from_pretrained(str(base))
        except (OSError, ValueError) as e:
            raise ModelLoadError(f"cannot load model from {base}: {e}") from e
        model.eval().to(device)
        self._tok, self._model, self._dev, self.layout, self._path = tokenizer, model, device, layout, path
        self._linear = None
        if linear is not None:
            self._linear = linear.to(torch.float32).to(device)  # (dim, hidden)
            if self._linear.shape[1] != model.config.hidden_size:
                raise ModelLoadError(f"{path}: projection {tuple(self._linear.shape)} does not fit hidden size "
                                     f"{model.config.hidden_size}")
        self.query_maxlen = int(self._query_maxlen or query_maxlen)
        self.doc_maxlen = int(self._doc_maxlen or doc_maxlen)
        self.doc_maxlen = min(self.doc_maxlen, int(getattr(model.config, "max_position_embeddings", 512)))
        self.attend_masks = attend_masks
        self.markers = {"query": q_marker, "doc": d_marker}
        self._marker_ids = {kind: self._single_token(m) for kind, m in self.markers.items()}
        if self.query_augment and tokenizer.mask_token_id is None:
            raise ModelLoadError(f"{path}: the tokenizer has no mask token for query augmentation; "
                                 "pass query_augment=False")
        vocab = tokenizer.get_vocab()
        self._punct = np.zeros(max(len(tokenizer), max(vocab.values()) + 1), dtype=bool)
        for token, i in vocab.items():
            if _is_punct(token):
                self._punct[i] = True
        self._special = set(tokenizer.all_special_ids)
        self.dim = int(self._linear.shape[0]) if self._linear is not None else int(model.config.hidden_size)
        logger.info("loaded %s (%s layout, dim %d) from %s on %s", self.model_name, layout, self.dim, path, device)

    def _from_hf_cache(self, name: str) -> Path:
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(name, local_files_only=True))
        except Exception as e:  # noqa: BLE001 - any Hub failure means "not available offline"
            raise ModelLoadError(offline_hint(name)) from e

    def _single_token(self, marker: str) -> int | None:
        # "[unused0]" / "[Q] " are one vocabulary token: inserted as an id, like ColBERT and PyLate
        text = marker.strip()
        if not text:
            return None
        ids = self._tok.convert_tokens_to_ids([text])
        if ids and ids[0] is not None and ids[0] != self._tok.unk_token_id:
            return int(ids[0])
        return None

    # -- identity --------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """What must match between indexing and searching."""
        self._ensure()
        return {
            "encoder": self.name,
            "model": self.model_name,
            "revision": folder_fingerprint(self._path),
            "layout": self.layout,
            "prompts": self.markers,
            "dim": self.dim,
            "query_maxlen": self.query_maxlen,
            "doc_maxlen": self.doc_maxlen,
            "query_augment": self.query_augment,
            "attend_to_mask_tokens": self.attend_masks,
            "normalize": True,
        }

    # -- encoding --------------------------------------------------------------------------
    def _batch(self, texts: list[str], kind: str):
        """input ids, attention mask and the mask of positions whose vectors are kept."""
        import torch

        tok = self._tok
        marker, marker_id = self.markers[kind], self._marker_ids[kind]
        maxlen = self.query_maxlen if kind == "query" else self.doc_maxlen
        if marker and marker_id is None:
            enc = tok([marker + t for t in texts], truncation=True, max_length=maxlen, padding="longest",
                      return_offsets_mapping=True, return_tensors="pt")
            offsets = enc.pop("offset_mapping")
            # tokens of the text prompt carry no content: keep those that end after it (a
            # sentencepiece token's offsets include its leading space, so the start may be inside)
            keep = offsets[:, :, 1] > len(marker)
            keep |= offsets[:, :, 1] == 0  # special tokens (and padding, masked below)
        else:
            enc = tok(list(texts), truncation=True, max_length=maxlen - (marker_id is not None), padding="longest",
                      return_tensors="pt")
            keep = torch.ones_like(enc["input_ids"], dtype=torch.bool)
        ids, att = enc["input_ids"], enc["attention_mask"]
        if marker_id is not None:
            col = torch.full((len(texts), 1), marker_id, dtype=ids.dtype)
            ids = torch.cat([ids[:, :1], col, ids[:, 1:]], dim=1)
            att = torch.cat([att[:, :1], torch.ones_like(col), att[:, 1:]], dim=1)
            keep = torch.cat([keep[:, :1], torch.ones_like(col, dtype=torch.bool), keep[:, 1:]], dim=1)
        if kind == "query":
            if self.query_augment:
                pad = maxlen - ids.shape[1]
                if pad > 0:
                    ids = torch.cat([ids, torch.full((len(texts), pad), tok.pad_token_id, dtype=ids.dtype)], 1)
                    att = torch.cat([att, torch.zeros((len(texts), pad), dtype=att.dtype)], 1)
                    keep = torch.cat([keep, torch.ones((len(texts), pad), dtype=torch.bool)], 1)
                masks = att == 0
                ids = ids.masked_fill(masks, tok.mask_token_id)
                if self.attend_masks:
                    att = torch.ones_like(att)
            else:
                keep &= att.bool()
        else:
            keep &= att.bool()
            keep &= ~torch.from_numpy(self._punct[ids.numpy()])
            if self.layout == "plain":
                for special in self._special:
                    keep &= ids != special
        return ids, att, keep

    def _encode(self, texts: Sequence[str], kind: str) -> list[np.ndarray]:
        import torch

        self._ensure()
        texts = list(texts)
        out: list[np.ndarray | None] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            ids, att, keep = self._batch([texts[i] for i in rows], kind)
            with torch.inference_mode():
                hidden = self._model(input_ids=ids.to(self._dev), attention_mask=att.to(self._dev)).last_hidden_state
                hidden = hidden.float()
                if self._linear is not None:
                    hidden = hidden @ self._linear.T
                hidden = torch.nn.functional.normalize(hidden, dim=-1).cpu().numpy()
            keep = keep.numpy()
            for j, i in enumerate(rows):
                sel = keep[j]
                if not sel.any():
                    sel = np.zeros_like(sel)
                    sel[0] = True  # an empty or all-punctuation text still gets one vector
                out[i] = np.ascontiguousarray(hidden[j][sel], dtype=np.float32)
        return out  # type: ignore[return-value]

    def encode_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        """One ``(tokens, dim)`` array per query (``query_maxlen`` rows with augmentation)."""
        return self._encode(texts, "query")

    def encode_docs(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, lengths)``: the token vectors of all ``texts`` stacked, and per-text counts."""
        parts = self._encode(texts, "doc")
        self._ensure()
        if not parts:
            return np.zeros((0, self.dim), np.float32), np.zeros(0, np.int32)
        return np.concatenate(parts), np.asarray([len(p) for p in parts], dtype=np.int32)

