"""MaxP: splitting documents into passages at index time and rolling scores up to documents."""

import json

import pytest

from xlir import load_index
from xlir.errors import InputError, ParamError
from xlir.passages import PassageRetriever, maxp, split_passages
from xlir.registry import RETRIEVERS
from xlir.types import Doc, Query


def test_split_passages_windows_and_edges():
    text = " ".join(f"w{i}" for i in range(10))
    assert split_passages(text, 4, 2) == ["w0 w1 w2 w3", "w2 w3 w4 w5", "w4 w5 w6 w7", "w6 w7 w8 w9"]
    # the last window ends at the last word, never past it with nothing new
    assert split_passages(text, 4, 4) == ["w0 w1 w2 w3", "w4 w5 w6 w7", "w8 w9"]
    assert split_passages("a  b\nc", 5, 2) == ["a b c"]
    assert split_passages("", 5, 2) == [""]
    with pytest.raises(ParamError, match="skip text"):
        split_passages(text, 2, 3)
    with pytest.raises(ParamError):
        split_passages(text, 0, 1)


def test_maxp_takes_the_best_passage_per_document():
    run = {"q": {"a#p0": 1.0, "a#p3": 5.0, "b#p1": 4.0, "c#p0": 4.0, "x#py#p0": 0.5}}
    assert maxp(run, "#p") == {"q": {"a": 5.0, "b": 4.0, "c": 4.0, "x#py": 0.5}}
    assert list(maxp(run, "#p", k=2)["q"]) == ["a", "b"]  # ties by docid


def _long_docs():
    filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do".split()
    docs = []
    for i in range(6):
        words = [filler[(i + j) % len(filler)] for j in range(120)]
        docs.append(words)
    docs[2][60:63] = ["volcano", "eruption", "lava"]  # the match sits in the middle of doc 2
    docs[4][5:7] = ["volcano", "ash"]
    return [Doc(f"d{i}", " ".join(w), title=f"T{i}", lang="en") for i, w in enumerate(docs)]


@pytest.mark.parametrize("name", ["bm25", "dense"])
def test_passage_retriever_rolls_up_and_round_trips(name, tmp_path):
    if not RETRIEVERS.is_available(name):
        pytest.skip(f"{name} not installed")
    docs = _long_docs()
    r = PassageRetriever(RETRIEVERS.create(name, lang="en"), words=30, stride=15)
    r.index(docs)
    assert r.passage_count == 6 * 7 and r.doc_count == 6
    queries = [Query("q1", "volcano eruption lava", "en")]
    run = r.search(queries, k=3)
    assert list(run["q1"])[0] == "d2"
    # BM25 ranks only the documents that share a word with the query
    assert all("#p" not in d for d in run["q1"]) and len(run["q1"]) == (3 if name == "dense" else 2)
    # each document appears once, with its best passage's score
    passages = r.retriever.search(queries, k=42)["q1"]
    assert run["q1"]["d2"] == max(s for p, s in passages.items() if p.startswith("d2#p"))

    r.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["passages"] == {"words": 30, "stride": 15, "sep": "#p", "aggregation": "max", "passages": 42,
                                    "documents": 6}
    loaded = load_index(tmp_path / "idx")
    assert isinstance(loaded, PassageRetriever) and loaded.name == name
    assert loaded.search(queries, k=3) == run
    # the document text is rebuilt from overlapping passages
    assert loaded.docs["d2"].text == docs[2].text and loaded.docs["d2"].title == "T2"
    assert "d5" in loaded.docs and len(loaded.docs) == 6
    # asking for every document ranks every document (the passage depth grows as needed)
    assert len(loaded.search(queries, k=6)["q1"]) == (6 if name == "dense" else 2)


def test_separator_collision_is_refused():
    r = PassageRetriever(RETRIEVERS.create("bm25", lang="en"), words=10, stride=5)
    with pytest.raises(InputError, match="separator"):
        r.index([Doc("a#p1", "some text")])
    r = PassageRetriever(RETRIEVERS.create("bm25", lang="en"), words=10, stride=5, sep="::")
    r.index([Doc("a#p1", "some text here")])
    assert r.search([Query("q", "text")], k=5) == {"q": {"a#p1": pytest.approx(r.search([Query("q", "text")], k=1)["q"]["a#p1"])}}


def test_cli_index_with_passages(tmp_path, capsys):
    from xlir.cli.main import main
    from xlir.io import write_corpus

    corpus = tmp_path / "docs.jsonl"
    write_corpus(_long_docs(), corpus)
    rc = main(["-q", "index", str(corpus), "-r", "bm25", "-l", "en", "-o", str(tmp_path / "idx"),
               "--passage-words", "30", "--passage-stride", "15"])
    assert rc == 0, capsys.readouterr().err
    loaded = load_index(tmp_path / "idx")
    assert isinstance(loaded, PassageRetriever) and (loaded.words, loaded.stride) == (30, 15)
    assert list(loaded.search([Query("q", "volcano eruption")], k=2)["q"]) == ["d2", "d4"]
    rc = main(["-q", "index", str(corpus), "-r", "bm25", "-l", "en", "-o", str(tmp_path / "idx2"),
               "--passage-stride", "15"])
    assert rc != 0
