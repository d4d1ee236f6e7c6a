"""GPU check for the dense path: device auto-selection, fp16 on CUDA, agreement with the CPU.

Runs where no model can be downloaded and no xlir model is provisioned (the lent GPU
machine), so it builds a BERT model of multilingual-e5-small's shape with random weights
and a WordPiece tokenizer trained on the spot, saved as a sentence-transformers folder
(mean pooling, normalization, e5 prompts). Then it checks, through xlir's own encoder
and DenseRetriever:
- ``device="auto"`` picks CUDA and runs the model in fp16;
- fp16 GPU vectors agree with fp32 CPU vectors (cosine >= 0.99);
- encoding throughput on GPU vs CPU;
- a dense index built and searched on GPU ranks like the CPU one (top-1 agreement).

    python benchmarks/gpu_check.py [--docs 4096] [--output results/gpu_check.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = ("river sea delta mountain city train bread volcano bee solar chess lighthouse coral king queen "
         "fleuve mer ville pain abeille échecs phare corail Fluss Meer Stadt Brot Biene Schach Leuchtturm "
         "río mar ciudad pan abeja ajedrez faro coral the a of in on and with for to from by").split()


def build_model(folder: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, models as tm, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, BertTokenizerFast

    rng = random.Random(0)
    corpus = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40))) for _ in range(2000)]
    tok = Tokenizer(tm.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(corpus, trainers.WordPieceTrainer(
        vocab_size=2000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    hf_dir = folder / "hf"
    hf_dir.mkdir(parents=True)
    fast = BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                             sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)
    fast.save_pretrained(hf_dir)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                     intermediate_size=1536, max_position_embeddings=512)
    BertModel(cfg).save_pretrained(hf_dir)
    transformer = models.Transformer(str(hf_dir), max_seq_length=512)
    pooling = models.Pooling(transformer.get_word_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(modules=[transformer, pooling, models.Normalize()],
                             prompts={"query": "query: ", "passage": "passage: "}, device="cpu")
    st.save(str(folder / "st"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=4096)
    ap.add_argument("--output", default=str(Path(os.environ.get("OUT", "benchmarks/results")) / "gpu_check.json"))
    args = ap.parse_args()

    import numpy as np
    import torch

    from xlir.encoders.st import SentenceTransformerEncoder
    from xlir.retrievers.dense import DenseRetriever
    from xlir.types import Doc, Query

    result: dict = {"torch": torch.__version__, "cuda": torch.cuda.is_available(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    rng = random.Random(1)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120))) for _ in range(args.docs)]
    queries = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))) for _ in range(256)]
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        build_model(Path(tmp))
        result["build_model_s"] = round(time.perf_counter() - t, 1)
        path = str(Path(tmp) / "st")
        auto = SentenceTransformerEncoder(path, device="auto", batch_size=128)
        cpu = SentenceTransformerEncoder(path, device="cpu", batch_size=32)
        model = auto.model
        result["auto_device"] = str(model.device)
        result["auto_dtype"] = str(next(model.parameters()).dtype)
        result["prompts"] = {"query": auto.query_prompt, "doc": auto.doc_prompt}

        auto.encode_docs(texts[:64]), cpu.encode_docs(texts[:16])  # warm-up
        t = time.perf_counter()
        gv = auto.encode_docs(texts)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        result["auto_docs_per_s"] = round(len(texts) / (time.perf_counter() - t), 1)
        n_cpu = min(512, len(texts))
        t = time.perf_counter()
        cv = cpu.encode_docs(texts[:n_cpu])
        result["cpu_docs_per_s"] = round(n_cpu / (time.perf_counter() - t), 1)
        cos = (gv[:n_cpu] * cv).sum(1)
        result["cosine_auto_vs_cpu_fp32"] = {"min": float(cos.min()), "mean": float(cos.mean())}

        docs = [Doc(f"d{i}", x) for i, x in enumerate(texts)]
        qs = [Query(f"q{i}", x) for i, x in enumerate(queries)]
        gpu_r = DenseRetriever(model=path, device="auto")
        gpu_r.index(docs)
        gpu_run = gpu_r.search(qs, k=10)
        cpu_r = DenseRetriever(model=path, device="cpu")
        cpu_r.index(docs[:n_cpu])
        cpu_run = cpu_r.search(qs, k=10)
        gpu_small = DenseRetriever(model=path, device="auto")
        gpu_small._encoder = gpu_r.encoder
        gpu_small.index(docs[:n_cpu])
        small_run = gpu_small.search(qs, k=10)
        top1 = np.mean([next(iter(small_run[q.id])) == next(iter(cpu_run[q.id])) for q in qs])
        overlap = np.mean([len(set(small_run[q.id]) & set(cpu_run[q.id])) / 10 for q in qs])
        result["dense_gpu_vs_cpu"] = {"top1_agreement": float(top1), "top10_overlap": float(overlap),
                                      "docs": n_cpu, "queries": len(qs)}
        result["dense_gpu_full_index"] = {"docs": len(docs), "queries_with_hits": sum(bool(v) for v in gpu_run.values())}
    checks = {
        "auto picks cuda when present": (result["auto_device"].startswith("cuda")) == result["cuda"],
        "fp16 on cuda": (result["auto_dtype"] == "torch.float16") == result["cuda"],
        "cosine >= 0.99": result["cosine_auto_vs_cpu_fp32"]["min"] >= 0.99,
        "top-10 overlap >= 0.9": result["dense_gpu_vs_cpu"]["top10_overlap"] >= 0.9,
    }
    result["checks"] = checks
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print("| check | ok |\n|---|---|\n" + "\n".join(f"| {k} | {'yes' if v else 'NO'} |" for k, v in checks.items()))
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
