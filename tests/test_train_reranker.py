"""Training a ranking adapter on tiny data: weights change, save/load, checkpoints and resume, CLI, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from xlir.errors import IndexExistsError, InputError, ParamError
from xlir.types import Query

pytest.importorskip("adapters")
pytest.importorskip("torch")

from test_rerankers import build_tiny_bert  # noqa: E402

FAST = dict(negatives=2, mine_depth=4, batch_size=2, max_length=64, lr=5e-3, reduction_factor=4, checkpoint_every=2)


@pytest.fixture(scope="module")
def data():
    from xlir.io import read_corpus, read_qrels, read_queries

    fx = Path(__file__).parent / "fixtures" / "tiny"
    docs = list(read_corpus(fx / "docs.jsonl"))
    queries = read_queries(fx / "queries.tsv", lang="en")
    return docs, queries, read_qrels(fx / "qrels.txt")


@pytest.fixture(scope="module")
def base(data, tmp_path_factory):
    docs, queries, _ = data
    return build_tiny_bert(tmp_path_factory.mktemp("tinybert"), [d.contents for d in docs] + [q.text for q in queries])


def _tensors(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    out = load_file(str(folder / "adapter.safetensors"))
    if (folder / "model_head.safetensors").exists():  # a bi-encoder has no head
        out.update({"head." + k: v for k, v in load_file(str(folder / "model_head.safetensors")).items()})
    return out


def test_mined_examples_use_first_stage_negatives(data):
    from xlir.rerankers.train import TrainParams, mine_examples

    docs, queries, qrels = data
    params = TrainParams(**{k: v for k, v in FAST.items()})
    ex = mine_examples(docs, queries, qrels, params)
    assert len(ex) == sum(len(v) for v in qrels.values())  # one per (query, relevant doc)
    for e in ex:
        assert len(e["negs"]) == 2 and not set(e["negs"]) & set(qrels[e["qid"]]) and e["pos"] in qrels[e["qid"]]
    assert ex == mine_examples(docs, queries, qrels, params)  # seeded


def test_one_step_changes_weights_and_writes_a_loadable_adapter(data, base, tmp_path):
    import torch

    from xlir.rerankers.adapter import AdapterReranker
    from xlir.rerankers.train import TrainParams, _new_model, checkpoint_dir, train_reranker

    docs, queries, qrels = data
    out = tmp_path / "rank"
    params = TrainParams(base_model=str(base), epochs=1, **{**FAST, "batch_size": 12})  # 12 examples: one step
    result = train_reranker(docs, queries, qrels, out, params, data_description="tiny fixture")
    assert result.finished and result.total_steps == 1 and result.output == out
    assert sorted(p.name for p in out.iterdir()) == [
        "adapter.safetensors", "adapter_config.json", "card.json", "head_config.json", "model_head.safetensors"]
    assert not checkpoint_dir(out).exists()  # removed once the adapter is written
    card = json.loads((out / "card.json").read_text())
    assert card["base_model"] == str(base) and card["training"]["examples"] == 12
    assert card["training"]["data"] == "tiny fixture" and card["training"]["params"]["loss"] == "listwise"

    fresh, _ = _new_model(params, "cpu")  # the same seed: the initial weights
    init = {n: p.detach().numpy() for n, p in fresh.named_parameters() if p.requires_grad}
    loaded = AdapterReranker(out)
    trained = {n: p.detach().numpy() for n, p in loaded.model.named_parameters() if ".rank." in n or "heads.rank" in n}
    assert set(init) == set(trained)
    changed = [n for n in init if not np.allclose(init[n], trained[n])]
    assert len(changed) > len(init) // 2

    # save/load: the adapter written again by the library and loaded fresh scores identically
    q = Query("q1", "cats hunting mice", lang="en")
    pairs = [(q, d) for d in docs]
    scores = loaded.score_pairs(pairs)
    assert_saved_again_scores_the_same(loaded, out, pairs, scores, tmp_path, with_head=True)
    assert torch.is_grad_enabled()


def assert_saved_again_scores_the_same(loaded, out, pairs, scores, tmp_path, *, with_head):
    """The adapter written again by the library and loaded fresh (and the trained folder) score identically."""
    from xlir.rerankers.adapter import AdapterReranker

    again = tmp_path / "again"
    again.mkdir()
    loaded.model.save_adapter(str(again), "rank", with_head=with_head, use_safetensors=True)
    (again / "card.json").write_text((out / "card.json").read_text())
    np.testing.assert_array_equal(AdapterReranker(again).score_pairs(pairs), scores)
    np.testing.assert_array_equal(AdapterReranker(out).score_pairs(pairs), scores)


def test_one_bi_encoder_step_changes_scores_and_writes_a_bi_encoder_card(data, base, tmp_path):
    from test_rerankers import plain_embeddings

    from xlir.rerankers.adapter import AdapterReranker, bi_doc_text
    from xlir.rerankers.train import TrainParams, _batch_loss, _new_model, train_reranker

    docs, queries, qrels = data
    out = tmp_path / "bi"
    params = TrainParams(base_model=str(base), architecture="bi-encoder", temperature=0.05, epochs=1,
                         **{**FAST, "batch_size": 12})  # 12 examples: one step
    # the untrained model is the plain encoder: identity initialization
    fresh, tok = _new_model(params, "cpu")
    fresh.eval()
    assert "rank" not in fresh.heads
    import torch

    from xlir.rerankers.adapter import embed, tokenize_texts

    texts = ["query: cats hunting mice"] + ["passage: " + bi_doc_text(d) for d in docs]
    with torch.no_grad():
        got = embed(fresh, tokenize_texts(tok, texts, 64, "cpu"), "mean").numpy()
    np.testing.assert_allclose(got, plain_embeddings(base, texts), rtol=1e-5, atol=1e-5)
    # in-batch softmax: relevant documents other than the example's positive are masked, not negatives
    by_q, by_d = {q.id: q for q in queries}, {d.id: d for d in docs}
    batch = [{"qid": "q1", "pos": "en1", "negs": ["en2"]}, {"qid": "q1", "pos": "fr1", "negs": ["en3"]}]
    with torch.no_grad():
        loss = _batch_loss(fresh, tok, batch, by_q, by_d, qrels, params, "cpu")
        q = embed(fresh, tokenize_texts(tok, ["query: cats hunting mice"], 64, "cpu"), "mean")
        d = embed(fresh, tokenize_texts(tok, ["passage: " + bi_doc_text(by_d[x]) for x in ["en1", "en2", "fr1", "en3"]],
                                         64, "cpu"), "mean")
        s = (q @ d.T)[0] / params.temperature
        expect = (-torch.log_softmax(s[[0, 1, 3]], 0)[0] - torch.log_softmax(s[[1, 2, 3]], 0)[1]) / 2
    assert float(loss) == pytest.approx(float(expect), rel=1e-5)

    result = train_reranker(docs, queries, qrels, out, params, data_description="tiny fixture")
    assert result.finished and result.total_steps == 1
    assert sorted(p.name for p in out.iterdir()) == ["adapter.safetensors", "adapter_config.json", "card.json"]
    card = json.loads((out / "card.json").read_text())
    assert card["architecture"] == "bi-encoder" and card["head"] is None
    assert card["training"]["params"]["temperature"] == 0.05 and "in-batch" in card["training"]["loss"]

    loaded = AdapterReranker(out)
    assert loaded.architecture == "bi-encoder"
    qy = Query("q1", "cats hunting mice", lang="en")
    pairs = [(qy, d) for d in docs]
    scores = loaded.score_pairs(pairs)
    plain = plain_embeddings(base, texts)
    assert np.abs(scores - plain[1:] @ plain[0]).max() > 1e-4  # one step moved the embeddings
    # save/load: written again by the library and loaded fresh, identical scores
    assert_saved_again_scores_the_same(loaded, out, pairs, scores, tmp_path, with_head=False)


@pytest.mark.parametrize("loss, architecture", [("listwise", "cross-encoder"), ("pairwise", "cross-encoder"),
                                                ("listwise", "bi-encoder")])
def test_interrupted_run_resumes_to_the_same_adapter(data, base, tmp_path, loss, architecture):
    from xlir.rerankers.train import TrainParams, checkpoint_dir, train_reranker

    docs, queries, qrels = data
    params = TrainParams(base_model=str(base), epochs=1, loss=loss, architecture=architecture, **FAST)  # 6 steps
    whole = train_reranker(docs, queries, qrels, tmp_path / "whole", params)
    assert whole.total_steps == 6 and whole.resumed_from == 0

    out = tmp_path / "resumed"
    first = train_reranker(docs, queries, qrels, out, params, stop_after=3)
    assert first.output is None and first.steps_done == 3 and not out.exists()
    ck = checkpoint_dir(out)
    assert sorted(p.name for p in ck.iterdir()) == ["examples.json", "step-0000003"]
    second = train_reranker(docs, queries, qrels, out, params, resume=True)
    assert second.resumed_from == 3 and second.steps_done == 6 and len(second.losses) == 3
    np.testing.assert_allclose(second.losses, whole.losses[3:], rtol=1e-5, atol=1e-6)
    a, b = _tensors(tmp_path / "whole"), _tensors(out)
    assert set(a) == set(b)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_resume_refuses_a_checkpoint_of_other_parameters(data, base, tmp_path):
    from xlir.rerankers.train import TrainParams, train_reranker

    docs, queries, qrels = data
    out = tmp_path / "rank"
    train_reranker(docs, queries, qrels, out, TrainParams(base_model=str(base), **FAST), stop_after=1)
    with pytest.raises(ParamError, match="other data or parameters"):
        train_reranker(docs, queries, qrels, out, TrainParams(base_model=str(base), **{**FAST, "lr": 1e-4}),
                       resume=True)


def test_bad_training_input_is_refused(data, base, tmp_path):
    from xlir.rerankers.train import TrainParams, train_reranker

    docs, queries, qrels = data
    params = TrainParams(base_model=str(base), **FAST)
    with pytest.raises(InputError, match="no training query has a relevant document"):
        train_reranker(docs, queries, {}, tmp_path / "a", params)
    with pytest.raises(InputError, match="not in the training corpus|no \\(query, relevant document\\)"):
        train_reranker(docs, queries, {"q1": {"missing-doc": 1}}, tmp_path / "b", params)
    (tmp_path / "c").mkdir()
    with pytest.raises(IndexExistsError):
        train_reranker(docs, queries, qrels, tmp_path / "c", params)
    with pytest.raises(ParamError, match="loss must be one of"):
        train_reranker(docs, queries, qrels, tmp_path / "d", base_model=str(base), loss="pointwise")
    with pytest.raises(ParamError, match="mine_depth"):
        TrainParams(negatives=5, mine_depth=2).validate()
    with pytest.raises(ParamError, match="architecture must be one of cross-encoder, bi-encoder"):
        TrainParams(architecture="colbert").validate()
    with pytest.raises(ParamError, match="temperature"):
        TrainParams(architecture="bi-encoder", temperature=0).validate()


def test_cli_train_stop_and_resume(tiny, base, tmp_path, capsys):
    from xlir.cli.main import main

    out = tmp_path / "rank"
    args = ["-q", "train-reranker", "--corpus", str(tiny / "docs.jsonl"), "--queries", str(tiny / "queries.tsv"),
            "--qrels", str(tiny / "qrels.txt"), "--output", str(out), "--lang", "en", "--base-model", str(base),
            "--negatives", "2", "--mine-depth", "4", "--batch-size", "4", "--max-length", "64",
            "--reduction-factor", "4", "--loss", "pairwise", "--checkpoint-every", "1"]
    assert main(args + ["--stop-after", "1"]) == 0
    assert "run again with --resume" in capsys.readouterr().err and not out.exists()
    assert main(args + ["--resume"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["resumed_from_step"] == 1 and card["training"]["steps"] == 3
    assert main(args) == 1  # exists, no --overwrite
    assert "already exists" in capsys.readouterr().err
    bi = tmp_path / "bi"
    assert main(args[: args.index("--output") + 1] + [str(bi)] + args[args.index("--output") + 2 :]
                + ["--architecture", "bi-encoder", "--temperature", "0.05", "--max-steps", "1"]) == 0
    card = json.loads((bi / "card.json").read_text())
    assert card["architecture"] == "bi-encoder" and card["training"]["params"]["temperature"] == 0.05
    assert not (bi / "model_head.safetensors").exists()


def test_max_steps_ends_training_early(data, base, tmp_path):
    from xlir.rerankers.train import TrainParams, train_reranker

    docs, queries, qrels = data
    result = train_reranker(docs, queries, qrels, tmp_path / "rank", TrainParams(base_model=str(base), max_steps=2, **FAST))
    assert result.total_steps == 2 and result.finished and len(result.losses) == 2
    card = json.loads((tmp_path / "rank" / "card.json").read_text())
    assert card["training"]["steps"] == 2 and card["training"]["examples_seen"] == 4
    assert card["training"]["examples"] == 12
