"""A tiny random Marian model, built at test time and converted with ctranslate2's converter.

No MT model can be downloaded in tests, so one is made: a sentencepiece model trained on
a few hundred generated sentences, a ``MarianTokenizer`` over it and a randomly
initialised ``MarianMTModel`` with 16-dimensional layers, converted by
``ctranslate2.converters.TransformersConverter`` exactly as a real OPUS-MT model would
be. Its translations are gibberish by construction: tests check plumbing, not quality.

Two flavours share the sentencepiece model: ``marian`` (a plain OPUS-MT-like pair model)
and ``nllb`` (the same with NLLB language tokens such as ``deu_Latn`` in its vocabulary,
so the translator must add a source language token and a target prefix).
"""

from __future__ import annotations

import json
import random
import shutil
import warnings
from pathlib import Path

WORDS_DE = "der die das und ein eine haus katze hund fluss meer stadt zug küste wasser baum berg jagt fließt sieht".split()
WORDS_EN = "the a and house cat dog river sea city train coast water tree mountain hunts flows sees".split()
NLLB_TOKENS = ["deu_Latn", "eng_Latn", "fra_Latn"]

_BUILT: dict[str, dict[str, Path]] = {}


def sentences(n: int = 300, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = WORDS_DE if rng.random() < 0.5 else WORDS_EN
        out.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))).capitalize() + ".")
    return out


def build_tiny_models(root: Path) -> dict[str, Path]:
    """Build (once per process) and return ``{"marian": dir, "nllb": dir, "hf-tokenizer": dir}``."""
    key = str(root)
    if key in _BUILT:
        return _BUILT[key]
    import sentencepiece as spm

    shutil.rmtree(root, ignore_errors=True)  # a folder left by an earlier process is rebuilt
    root.mkdir(parents=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences()), model_prefix=str(root / "sp"), vocab_size=200, hard_vocab_limit=False,
        model_type="unigram", character_coverage=1.0, bos_id=-1, eos_id=0, unk_id=1, pad_id=-1,
        user_defined_symbols=NLLB_TOKENS, minloglevel=2, num_threads=1,
    )
    sp = spm.SentencePieceProcessor(model_file=str(root / "sp.model"))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    out: dict[str, Path] = {}
    with warnings.catch_warnings():
        # MarianTokenizer says "Recommended: pip install sacremoses", which these texts do not need
        warnings.filterwarnings("ignore", message=".*sacremoses")
        for flavour in ("marian", "nllb"):
            _build_flavour(root, flavour, pieces, out)
    out["hf-tokenizer"] = _with_hf_tokenizer(out["marian"], sp, root / "ct2-hf-tokenizer")
    _BUILT[key] = out
    return out


def _build_flavour(root: Path, flavour: str, pieces: list[str], out: dict[str, Path]) -> None:
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    hf = root / f"hf-{flavour}"
    hf.mkdir()
    shutil.copy(root / "sp.model", hf / "source.spm")
    shutil.copy(root / "sp.model", hf / "target.spm")
    # Marian's vocab.json: the sentencepiece pieces, then <pad> last (the converter drops it).
    kept = [p for p in pieces if flavour == "nllb" or p not in NLLB_TOKENS]
    vocab = {p: i for i, p in enumerate(kept)}
    vocab["<pad>"] = len(vocab)
    (hf / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    MarianTokenizer(str(hf / "source.spm"), str(hf / "target.spm"), str(hf / "vocab.json")).save_pretrained(hf)
    torch.manual_seed(0)
    config = MarianConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=256,
        pad_token_id=vocab["<pad>"], eos_token_id=vocab["</s>"], decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=vocab["</s>"],
        init_std=0.5,  # large random weights: outputs that depend on the input, not one constant string
    )
    MarianMTModel(config).save_pretrained(hf)
    target = root / f"ct2-{flavour}"
    TransformersConverter(str(hf), copy_files=["source.spm", "target.spm"]).convert(str(target), quantization="int8")
    out[flavour] = target


def _with_hf_tokenizer(model: Path, sp, target: Path) -> Path:
    """A copy of ``model`` whose tokenizer is a ``tokenizer.json`` (HF tokenizers) instead of .spm files."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    shutil.copytree(model, target)
    for name in ("source.spm", "target.spm"):
        (target / name).unlink()
    vocab = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp.unk_id()))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.save(str(target / "tokenizer.json"))
    return target
