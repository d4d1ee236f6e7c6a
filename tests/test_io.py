"""Readers and writers of xlir.io: good files, every bad-line case, round trips, atomicity."""

from __future__ import annotations

import gzip
import io
import json
import os

import pytest

from xlir.errors import InputError
from xlir.io import (
    atomic_open,
    atomic_write_text,
    count_lines,
    format_run_lines,
    read_corpus,
    read_qrels,
    read_queries,
    read_run,
    write_corpus,
    write_qrels,
    write_queries,
    write_run,
)
from xlir.types import Doc, Query


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def _corpus_error(tmp_path, text: str, name: str = "docs.jsonl") -> str:
    path = _write(tmp_path / name, text)
    with pytest.raises(InputError) as exc:
        list(read_corpus(path))
    return str(exc.value)


# --- corpus -----------------------------------------------------------------------------


def test_read_corpus_fields_aliases_and_meta(tmp_path):
    path = _write(
        tmp_path / "docs.jsonl",
        '{"id": "d1", "text": "hello", "title": "T", "lang": "fr", "url": "u"}\n'
        "\n"  # blank lines are skipped
        '{"_id": "d2", "text": "beir style", "title": "", "metadata": {}}\n'
        '{"docid": 3, "contents": "pyserini style"}\n'
        '{"doc_id": " d4 ", "text": "", "contents": "kept in meta"}\n',
    )
    docs = list(read_corpus(path, lang="en"))
    assert [d.id for d in docs] == ["d1", "d2", "3", "d4"]
    assert docs[0] == Doc("d1", "hello", title="T", lang="fr")
    assert docs[0].meta == {"url": "u"}
    assert docs[1].lang == "en" and docs[1].meta == {"metadata": {}}
    assert docs[2].text == "pyserini style"
    # 'text' wins over 'contents'; the unused one is not lost.
    assert docs[3].text == "" and docs[3].meta == {"contents": "kept in meta"}


@pytest.mark.parametrize(
    "lines, line, fragment",
    [
        ('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"\n', 2, "invalid JSON"),
        ('{"id": "a", "text": "x"}\n\n["b", "y"]\n', 3, "expected a JSON object, got list"),
        ('{"text": "x"}\n', 1, "missing doc id"),
        ('{"id": "  ", "text": "x"}\n', 1, "empty doc id"),
        ('{"id": null, "text": "x"}\n', 1, "doc id must be a string or an integer, got NoneType"),
        ('{"id": 1.5, "text": "x"}\n', 1, "got float"),
        ('{"id": true, "text": "x"}\n', 1, "got bool"),
        ('{"id": "a b", "text": "x"}\n', 1, "contains whitespace"),
        ('{"id": "a"}\n', 1, "missing text"),
        ('{"id": "a", "text": null}\n', 1, "'text' is null"),
        ('{"id": "a", "text": 5}\n', 1, "must be a string"),
        ('{"id": "a", "text": "x", "title": 3}\n', 1, "'title' must be a string"),
        ('{"id": "a", "_id": "b", "text": "x"}\n', 1, "conflicting doc id fields"),
    ],
)
def test_read_corpus_bad_lines(tmp_path, lines, line, fragment):
    message = _corpus_error(tmp_path, lines)
    assert f"docs.jsonl:{line}: " in message
    assert fragment in message


def test_read_corpus_duplicate_id_names_first_line(tmp_path):
    text = '{"id": "x", "text": "1"}\n{"id": "y", "text": "2"}\n\n{"id": 7, "text": "3"}\n{"_id": "x", "text": "4"}\n'
    message = _corpus_error(tmp_path, text)
    assert message.endswith("docs.jsonl:5: duplicate doc id 'x' (first seen on line 1)")
    # ints and strings share one id space
    message = _corpus_error(tmp_path, '{"id": 7, "text": "1"}\n{"id": "7", "text": "2"}\n')
    assert "docs.jsonl:2: duplicate doc id '7' (first seen on line 1)" in message


def test_read_corpus_errors_carry_path_and_line(tmp_path):
    path = _write(tmp_path / "docs.jsonl", '{"id": "a", "text": "x"}\n{oops}\n')
    with pytest.raises(InputError) as exc:
        list(read_corpus(path))
    assert exc.value.line == 2 and str(exc.value.path) == str(path)


def test_read_corpus_gzip_and_bom(tmp_path):
    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write('\ufeff{"id": "a", "text": "é"}\r\n{"id": "b", "text": "x"}\n')
    assert [(d.id, d.text) for d in read_corpus(path)] == [("a", "é"), ("b", "x")]
    assert count_lines(path) == 2


def test_read_corpus_invalid_utf8_has_line(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b'{"id": "a", "text": "x"}\n{"id": "b", "text": "\xff"}\n')
    with pytest.raises(InputError, match=r"docs\.jsonl:2: invalid UTF-8"):
        list(read_corpus(path))


def test_read_corpus_tsv(tmp_path):
    path = _write(tmp_path / "docs.tsv", "d1\tfirst doc\n\nd2\tsecond\n")
    assert [(d.id, d.text, d.lang) for d in read_corpus(path, lang="de")] == [
        ("d1", "first doc", "de"),
        ("d2", "second", "de"),
    ]
    message = _corpus_error(tmp_path, "d1\tok\nd2\ttext\ttitle\n", name="docs.tsv")
    assert message.endswith("docs.tsv:2: expected 2 tab-separated columns (id, text), got 3")
    assert "docs.tsv:1: expected 2" in _corpus_error(tmp_path, "just text\n", name="docs.tsv")
    assert "docs.tsv:2: duplicate doc id 'a' (first seen on line 1)" in _corpus_error(
        tmp_path, "a\tx\na\ty\n", name="docs.tsv"
    )


def test_read_corpus_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_corpus(tmp_path / "nope.jsonl")  # raised at call time, not on first next()
    path = _write(tmp_path / "docs.csv", "a,b\n")
    with pytest.raises(InputError, match="cannot tell the corpus format"):
        read_corpus(path)
    _write(tmp_path / "docs.dat", "a\tb\n")
    assert [d.id for d in read_corpus(tmp_path / "docs.dat", fmt="tsv")] == ["a"]


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz"])
def test_write_corpus_round_trip(tmp_path, name):
    docs = [
        Doc("a", "tab\there\nnewline", title="T", lang="fr", meta={"url": "u", "n": 1}),
        Doc("b", "ünïcödé 中文", meta={"contents": "T b"}),
    ]
    path = tmp_path / name
    assert write_corpus(docs, path) == 2
    back = list(read_corpus(path))
    assert back == docs
    assert [d.meta for d in back] == [d.meta for d in docs]
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temp file left behind


def test_write_corpus_refuses_bad_input(tmp_path):
    with pytest.raises(ValueError, match="duplicate doc id 'a'"):
        write_corpus([Doc("a", "x"), Doc("a", "y")], tmp_path / "d.jsonl")
    with pytest.raises(ValueError, match="clash"):
        write_corpus([Doc("a", "x", meta={"_id": "b"})], tmp_path / "d.jsonl")
    with pytest.raises(ValueError, match="JSONL"):
        write_corpus([Doc("a", "x")], tmp_path / "d.tsv")
    assert not list(tmp_path.iterdir())


# --- queries ----------------------------------------------------------------------------


def test_read_queries_tsv_and_jsonl(tmp_path):
    tsv = _write(tmp_path / "q.tsv", "1\t what is x \n\n2\ty?\n")
    assert read_queries(tsv, lang="en") == [Query("1", "what is x", "en"), Query("2", "y?", "en")]
    txt = _write(tmp_path / "q.txt", "a\tb\n")
    assert read_queries(txt) == [Query("a", "b")]
    jsonl = _write(
        tmp_path / "q.jsonl",
        '{"_id": "q1", "text": "beir", "metadata": {}}\n'
        '{"qid": 2, "query": "msmarco", "lang": "de"}\n'
        '{"id": "q3", "title": "trec title", "description": "ignored"}\n',
    )
    assert read_queries(jsonl, lang="en") == [
        Query("q1", "beir", "en"),
        Query("2", "msmarco", "de"),
        Query("q3", "trec title", "en"),
    ]


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("queries.tsv", "1\ta\n2\tb\tc\n", "queries.tsv:2: expected 2 tab-separated columns (id, text), got 3"),
        ("queries.tsv", "1\ta\n\n1\tb\n", "queries.tsv:3: duplicate query id '1' (first seen on line 1)"),
        ("queries.tsv", "1\ta\n \tb\n", "queries.tsv:2: empty query id"),
        ("queries.tsv", "1\t  \n", "queries.tsv:1: query '1': empty text"),
        ("queries.tsv", "1 a\n", "queries.tsv:1: expected 2 tab-separated columns (id, text), got 1"),
        ("queries.jsonl", '{"id": "1", "text": "a"}\n{"id": "2", "text": "b",}\n', "queries.jsonl:2: invalid JSON"),
        ("queries.jsonl", '{"text": "a"}\n', "queries.jsonl:1: missing query id"),
        ("queries.jsonl", '{"id": "1"}\n', "queries.jsonl:1: missing query text"),
        ("queries.jsonl", '{"id": "1", "text": ""}\n', "queries.jsonl:1: query '1': empty text"),
        ("queries.jsonl", '{"id": "1", "text": ["a"]}\n', "queries.jsonl:1: field 'text' must be a string"),
        ("queries.jsonl", '"1"\n', "queries.jsonl:1: expected a JSON object, got str"),
    ],
)
def test_read_queries_bad_lines(tmp_path, name, text, expected):
    path = _write(tmp_path / name, text)
    with pytest.raises(InputError) as exc:
        read_queries(path)
    assert str(exc.value).startswith(f"{tmp_path}{os.sep}{expected}")


def test_read_queries_unknown_suffix(tmp_path):
    path = _write(tmp_path / "q.csv", "1,a\n")
    with pytest.raises(InputError, match="cannot tell the query file format"):
        read_queries(path)
    assert read_queries(_write(tmp_path / "q.dat", "1\ta\n"), fmt="tsv") == [Query("1", "a")]


def test_write_queries_tsv_flattens_text_and_round_trips(tmp_path):
    queries = [Query("2", "two\tcols\r\nand lines"), Query("10", "ten")]
    path = tmp_path / "q.tsv"
    assert write_queries(queries, path) == 2
    assert path.read_text(encoding="utf-8") == "2\ttwo cols and lines\n10\tten\n"
    assert read_queries(path) == [Query("2", "two cols and lines"), Query("10", "ten")]


def test_write_queries_jsonl_keeps_lang(tmp_path):
    queries = [Query("a", "x", "fr"), Query("b", "y")]
    path = tmp_path / "q.jsonl"
    write_queries(queries, path)
    assert read_queries(path) == queries


def test_write_queries_refuses_bad_ids(tmp_path):
    for bad in (Query("a b", "x"), Query("", "x")):
        with pytest.raises(ValueError, match="whitespace"):
            write_queries([bad], tmp_path / "q.tsv")
    with pytest.raises(ValueError, match="duplicate query id"):
        write_queries([Query("a", "x"), Query("a", "y")], tmp_path / "q.tsv")
    with pytest.raises(ValueError, match="empty text"):
        write_queries([Query("a", "\n\t")], tmp_path / "q.tsv")
    assert not list(tmp_path.iterdir())


# --- qrels ------------------------------------------------------------------------------


def test_read_qrels(tmp_path):
    path = _write(tmp_path / "qrels.txt", "1 0 d1 1\n1 0 d2 0\n\n2\tQ0  d1 -1\n10 0 d3 3\n")
    assert read_qrels(path) == {"1": {"d1": 1, "d2": 0}, "2": {"d1": -1}, "10": {"d3": 3}}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 0 d1 1\n1 0 d2\n", "qrels.txt:2: expected 4 whitespace-separated columns (qid iter docid rel), got 3"),
        ("1 0 d1 1 x\n", "qrels.txt:1: expected 4 whitespace-separated columns (qid iter docid rel), got 5"),
        ("1 0 d1 1\n1 0 d2 1.0\n", "qrels.txt:2: relevance '1.0' is not an integer"),
        ("1 0 d1 high\n", "qrels.txt:1: relevance 'high' is not an integer"),
        (
            "1 0 d1 1\n2 0 d1 1\n1 0 d1 2\n",
            "qrels.txt:3: duplicate judgment for query '1', doc 'd1' (first seen on line 1)",
        ),
    ],
)
def test_read_qrels_bad_lines(tmp_path, text, expected):
    path = _write(tmp_path / "qrels.txt", text)
    with pytest.raises(InputError) as exc:
        read_qrels(path)
    assert str(exc.value).endswith(expected)


def test_write_qrels_natural_order_and_round_trip(tmp_path):
    qrels = {"10": {"b": 1, "a": 0}, "2": {"z": 2}, "1": {"c": 1}}
    buf = io.StringIO()
    assert write_qrels(qrels, buf) == 4
    assert buf.getvalue() == "1 0 c 1\n2 0 z 2\n10 0 a 0\n10 0 b 1\n"
    path = tmp_path / "qrels.txt"
    write_qrels(qrels, path)
    assert read_qrels(path) == qrels
    with pytest.raises(ValueError, match="not an integer"):
        write_qrels({"1": {"a": 0.5}}, io.StringIO())


# --- runs -------------------------------------------------------------------------------


def test_read_run(tmp_path):
    path = _write(tmp_path / "run.txt", "1 Q0 d1 1 2.5 t\n1 Q0 d2 2 -1e3 t\n\nq2 0 d1 1 7 other\n")
    assert read_run(path) == {"1": {"d1": 2.5, "d2": -1000.0}, "q2": {"d1": 7.0}}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 Q0 d1 1 2.5\n", "run.txt:1: expected 6 whitespace-separated columns (qid Q0 docid rank score tag), got 5"),
        ("1 Q0 d1 1 2.5 t\n1 Q0 d2 one 2.0 t\n", "run.txt:2: rank 'one' is not an integer"),
        ("1 Q0 d1 1 high t\n", "run.txt:1: score 'high' is not a number"),
        ("1 Q0 d1 1 nan t\n", "run.txt:1: score 'nan' is not a number"),
        ("1 Q0 d1 1 2 t\n1 Q0 d1 2 1 t\n", "run.txt:2: duplicate entry for query '1', doc 'd1' (first seen on line 1)"),
    ],
)
def test_read_run_bad_lines(tmp_path, text, expected):
    path = _write(tmp_path / "run.txt", text)
    with pytest.raises(InputError) as exc:
        read_run(path)
    assert str(exc.value).endswith(expected)


def test_write_run_order_ties_and_ranks():
    run = {
        "10": {"a": 1.0},
        "2": {"d3": 0.5, "d10": 0.5, "d1": 0.9, "d2": 0.5, "d0": -1.0},
        "1": {},
    }
    lines = list(format_run_lines(run, tag="bm25"))
    assert lines == [
        "2 Q0 d1 1 0.9 bm25\n",
        # equal scores: docid ascending by string, so "d10" before "d2"
        "2 Q0 d10 2 0.5 bm25\n",
        "2 Q0 d2 3 0.5 bm25\n",
        "2 Q0 d3 4 0.5 bm25\n",
        "2 Q0 d0 5 -1.0 bm25\n",
        "10 Q0 a 1 1.0 bm25\n",
    ]
    top2 = list(format_run_lines(run, k=2))
    assert top2 == ["2 Q0 d1 1 0.9 xlir\n", "2 Q0 d10 2 0.5 xlir\n", "10 Q0 a 1 1.0 xlir\n"]


def test_write_run_non_numeric_qids_sort_as_strings():
    run = {"q10": {"a": 1}, "q2": {"a": 1}, "Q1": {"a": 1}}
    assert [line.split()[0] for line in format_run_lines(run)] == ["Q1", "q10", "q2"]


def test_write_run_to_stream_and_numpy_scores():
    np = pytest.importorskip("numpy")
    buf = io.StringIO()
    n = write_run({"1": {"a": np.float32(0.1), "b": np.float64(0.2)}}, buf, tag="dense")
    assert n == 2
    assert buf.getvalue() == "1 Q0 b 1 0.2 dense\n1 Q0 a 2 0.10000000149011612 dense\n"
    assert not buf.closed  # a stream given by the caller stays open


def test_write_run_round_trip_is_lossless(tmp_path):
    # Scores that %.6f or %.8g would merge into ties or change.
    run = {
        "1": {"a": 0.1 + 0.2, "b": 0.3, "c": 1e-12, "d": 123456789.123456789, "e": -0.0},
        "2": {"x": 1 / 3, "y": 1 / 3 + 1e-15},
    }
    path = tmp_path / "run.txt"
    assert write_run(run, path) == 7
    back = read_run(path)
    assert back == run
    # The order read back is the written ranking: ties and near-ties intact.
    assert list(back["1"]) == ["d", "a", "b", "c", "e"]
    assert list(back["2"]) == ["y", "x"]
    # Writing what was read gives the same bytes.
    again = tmp_path / "again.txt"
    write_run(back, again)
    assert again.read_bytes() == path.read_bytes()


def test_write_run_gz(tmp_path):
    path = tmp_path / "run.txt.gz"
    write_run({"1": {"a": 1.5}}, path)
    assert gzip.decompress(path.read_bytes()) == b"1 Q0 a 1 1.5 xlir\n"
    assert read_run(path) == {"1": {"a": 1.5}}


@pytest.mark.parametrize(
    "kwargs, run, fragment",
    [
        ({"tag": "my run"}, {"1": {"a": 1.0}}, "run tag"),
        ({"tag": ""}, {"1": {"a": 1.0}}, "run tag"),
        ({"k": 0}, {"1": {"a": 1.0}}, "k must be"),
        ({}, {"1 2": {"a": 1.0}}, "query id"),
        ({}, {"1": {"a b": 1.0}}, "doc id"),
        ({}, {"1": {"a": float("nan")}}, "NaN"),
    ],
)
def test_write_run_refuses_what_trec_cannot_hold(tmp_path, kwargs, run, fragment):
    path = _write(tmp_path / "run.txt", "old\n")
    with pytest.raises(ValueError, match=fragment):
        write_run(run, path, **kwargs)
    assert path.read_text() == "old\n"  # the failed write left the old file intact
    assert [p.name for p in tmp_path.iterdir()] == ["run.txt"]


# --- atomic writes ----------------------------------------------------------------------


def test_atomic_write_text_replaces_and_leaves_no_temp(tmp_path):
    path = _write(tmp_path / "f.txt", "old")
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_atomic_open_keeps_old_file_when_writer_raises(tmp_path):
    path = _write(tmp_path / "f.txt", "old")
    with pytest.raises(RuntimeError):
        with atomic_open(path) as f:
            f.write("partial")
            raise RuntimeError("boom")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]
    # A new target that fails is never created.
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(tmp_path / "g.bin", "wb") as f:
            f.write(b"x")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["f.txt"]


def test_atomic_open_binary_and_bad_mode(tmp_path):
    with atomic_open(tmp_path / "b.bin", "wb") as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(ValueError):
        with atomic_open(tmp_path / "c.txt", "a"):
            pass


def test_atomic_open_respects_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "p.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "p.txt").stat().st_mode & 0o777 == 0o644


def test_written_jsonl_is_plain_json_lines(tmp_path):
    path = tmp_path / "d.jsonl"
    write_corpus([Doc("a", "x", lang="en")], path)
    assert [json.loads(line) for line in path.read_text().splitlines()] == [{"id": "a", "text": "x", "lang": "en"}]
