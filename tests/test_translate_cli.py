"""``xlir translate`` and the --translate-docs / --translate-query modes of index and search,
with the ``table`` translator on a tiny fixture."""

import json
from pathlib import Path

import pytest

from xlir.cli.main import main

FIXTURES = Path(__file__).parent / "fixtures" / "translate"


def xlir(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Keep the default translation cache out of the user's home."""
    monkeypatch.setenv("XLIR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_translate_jsonl_corpus_with_a_table(tmp_path, capsys):
    out = tmp_path / "docs_en.jsonl"
    rc, stdout, err = xlir(capsys, "translate", str(FIXTURES / "docs_de.jsonl"), "--tgt", "en",
                           "--translator", f"table:{FIXTURES / 'docs_de_en.jsonl'}", "--output", str(out))
    assert rc == 0, err
    assert stdout.strip() == str(out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["de1", "de2", "de3", "de4"]
    assert rows[2] == {"id": "de3", "text": "The river flows into the sea through a wide delta.", "lang": "en",
                       "translated_from": "de"}
    assert "wrote 4 documents" in err
    rc, _, err = xlir(capsys, "translate", str(FIXTURES / "docs_de.jsonl"), "--tgt", "en",
                      "--translator", f"table:{FIXTURES / 'docs_de_en.jsonl'}", "--output", str(out))
    assert rc == 1 and "already exists; pass --overwrite" in err


def test_translate_tsv_queries_with_a_table(tmp_path, capsys):
    out = tmp_path / "q_de.tsv"
    rc, _, err = xlir(capsys, "-q", "translate", str(FIXTURES / "queries_en.tsv"), "--src", "en", "--tgt", "de",
                      "--translator", f"table:{FIXTURES / 'queries_en_de.tsv'}", "-o", str(out))
    assert rc == 0, err
    assert out.read_text() == (FIXTURES / "queries_en_de.tsv").read_text()
    out_jsonl = tmp_path / "q_de.jsonl"
    rc, _, err = xlir(capsys, "-q", "translate", str(FIXTURES / "queries_en.tsv"), "--src", "en", "--tgt", "de",
                      "--translator", f"table:{FIXTURES / 'queries_en_de.tsv'}", "-o", str(out_jsonl))
    assert rc == 0, err
    assert json.loads(out_jsonl.read_text().splitlines()[0]) == {"id": "q1", "text": "Katze jagt Mäuse", "lang": "de"}


def test_translate_errors_are_one_line(tmp_path, capsys):
    table = f"table:{FIXTURES / 'queries_en_de.tsv'}"
    rc, _, err = xlir(capsys, "translate", str(FIXTURES / "queries_en.tsv"), "--tgt", "de", "--translator", table,
                      "-o", str(tmp_path / "x.tsv"))
    assert rc == 1 and "query 'q1' has no language" in err and len(err.strip().splitlines()) == 1
    rc, _, err = xlir(capsys, "translate", str(FIXTURES / "docs_de.jsonl"), "--tgt", "en", "--translator", table,
                      "-o", str(tmp_path / "x.jsonl"))
    assert rc == 1 and "no translation for 4 of 4 ids ('de1', 'de2', 'de3', 'de4')" in err
    assert not (tmp_path / "x.jsonl").exists() and list(tmp_path.glob(".x.jsonl*")) == []  # nothing half-written
    rc, _, err = xlir(capsys, "translate", str(FIXTURES / "queries_en.tsv"), "--src", "en", "--tgt", "xx",
                      "--translator", table, "-o", str(tmp_path / "x.tsv"))
    assert rc == 1 and "unknown language code 'xx'" in err
    rc, _, err = xlir(capsys, "translate", str(FIXTURES / "queries_en.tsv"), "--tgt", "de", "-o", str(tmp_path / "x.tsv"))
    assert rc == 2 and "exactly one of --model DIR or --translator" in err
    rc, _, err = xlir(capsys, "translate", str(FIXTURES / "queries_en.tsv"), "--src", "en", "--tgt", "de",
                      "--translator", "tabel:x", "-o", str(tmp_path / "x.tsv"))
    assert rc == 1 and "did you mean 'table'" in err


@pytest.fixture
def translated_index(tmp_path, capsys):
    idx = tmp_path / "de-as-en.bm25"
    rc, _, err = xlir(capsys, "-q", "index", str(FIXTURES / "docs_de.jsonl"), "--lang", "de", "--translate-docs",
                      "--translator", f"table:{FIXTURES / 'docs_de_en.jsonl'}", "--translate-to", "en", "-o", str(idx))
    assert rc == 0, err
    return idx


def _top1(run_text):
    first = {}
    for line in run_text.splitlines():
        qid, _, docid, rank, *_ = line.split()
        if rank == "1":
            first[qid] = docid
    return first


def test_index_with_translated_documents(translated_index, capsys, home):
    assert not home.exists()  # a table translator needs no cache: nothing written to XLIR_HOME
    manifest = json.loads((translated_index / "manifest.json").read_text())
    assert manifest["params"]["lang"] == "en"  # the analyzer follows the translation
    t = manifest["translation"]
    assert (t["translator"], t["src"], t["tgt"], t["model"]) == ("table", ["de"], "en", str(FIXTURES / "docs_de_en.jsonl"))
    assert t["identity"].startswith("table:docs_de_en.jsonl@")
    rc, out, err = xlir(capsys, "-q", "search", str(translated_index), "--queries", str(FIXTURES / "queries_en.tsv"),
                        "--query-lang", "en", "-k", "3")
    assert rc == 0, err
    assert _top1(out) == {"q1": "de1", "q2": "de2", "q3": "de3"}
    rc, out, err = xlir(capsys, "search", str(translated_index), "--query", "river delta")
    assert rc == 0 and "de3" in out.splitlines()[1] and "wide delta" in out.splitlines()[1]  # the stored text is English


def test_wrong_query_language_is_an_error_unless_allowed(translated_index, capsys):
    args = ["search", str(translated_index), "--queries", str(FIXTURES / "queries_de.tsv"), "--query-lang", "de"]
    rc, out, err = xlir(capsys, *args)
    assert rc == 1 and out == ""
    assert "holds documents translated into 'en' (from de by table), but 3 in 'de' of 3 queries" in err
    assert "--translate-query" in err and "--allow-lang-mismatch" in err and len(err.strip().splitlines()) == 1
    rc, out, err = xlir(capsys, *args, "--allow-lang-mismatch")
    assert rc == 0 and "searching anyway" in err


def test_query_translation_into_a_translated_index(translated_index, capsys):
    # The English queries are the German queries' translation, keyed by the same ids: a table.
    rc, out, err = xlir(capsys, "-q", "search", str(translated_index), "--queries", str(FIXTURES / "queries_de.tsv"),
                        "--query-lang", "de", "--translate-query", "--translator", f"table:{FIXTURES / 'queries_en.tsv'}")
    assert rc == 0, err
    assert _top1(out) == {"q1": "de1", "q2": "de2", "q3": "de3"}


def test_query_translation_into_a_native_index(tmp_path, capsys):
    idx = tmp_path / "de.bm25"
    assert xlir(capsys, "-q", "index", str(FIXTURES / "docs_de.jsonl"), "--lang", "de", "-o", str(idx))[0] == 0
    assert "translation" not in json.loads((idx / "manifest.json").read_text())
    rc, out, err = xlir(capsys, "search", str(idx), "--queries", str(FIXTURES / "queries_en.tsv"), "--query-lang", "en",
                        "--translate-query", "--translator", f"table:{FIXTURES / 'queries_en_de.tsv'}",
                        "--output", str(tmp_path / "run"), "--run-name", "qt")
    assert rc == 0, err
    assert "translated 3 of 3 queries" in err
    assert _top1((tmp_path / "run").read_text()) == {"q1": "de1", "q2": "de2", "q3": "de3"}
    # no translation: English queries against German documents miss (the "none" condition)
    rc, out, _ = xlir(capsys, "-q", "search", str(idx), "--queries", str(FIXTURES / "queries_en.tsv"), "--query-lang", "en")
    assert rc == 0 and _top1(out) != {"q1": "de1", "q2": "de2", "q3": "de3"}


def test_translation_option_usage_errors(tmp_path, capsys):
    docs = str(FIXTURES / "docs_de.jsonl")
    table = f"table:{FIXTURES / 'docs_de_en.jsonl'}"
    rc, _, err = xlir(capsys, "index", docs, "--lang", "de", "--translate-docs", "--translator", table, "-o", str(tmp_path / "i"))
    assert rc == 2 and "--translate-to" in err
    rc, _, err = xlir(capsys, "index", docs, "--lang", "de", "--translate-docs", "--translate-to", "en", "-o", str(tmp_path / "i"))
    assert rc == 2 and "needs --translator" in err
    rc, _, err = xlir(capsys, "index", docs, "--lang", "de", "--translator", table, "-o", str(tmp_path / "i"))
    assert rc == 2 and "--translator needs --translate-docs" in err
    assert not (tmp_path / "i").exists()
    assert xlir(capsys, "-q", "index", docs, "--lang", "de", "-o", str(tmp_path / "de"))[0] == 0
    rc, _, err = xlir(capsys, "search", str(tmp_path / "de"), "--query", "x", "--translate-query", "--translator", table)
    assert rc == 2 and "needs --query-lang" in err
    rc, _, err = xlir(capsys, "search", str(tmp_path / "de"), "--query", "x", "--query-lang", "en", "--translate-query")
    assert rc == 2 and "needs --translator" in err
