import json
import subprocess
import sys
from pathlib import Path

import pytest

from xlir.cli.main import main


def xlir(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def built(tiny, tmp_path, capsys):
    rc, out, err = xlir(capsys, "-q", "index", str(tiny / "docs.jsonl"), "--retriever", "bm25", "--lang", "en",
                        "--output", str(tmp_path / "idx"))
    assert rc == 0, err
    return tmp_path / "idx"


def test_index_search_eval_end_to_end(tiny, built, tmp_path, capsys):
    rc, out, err = xlir(capsys, "-q", "search", str(built), "--queries", str(tiny / "queries.tsv"),
                        "-k", "5", "--output", str(tmp_path / "run.txt"), "--run-name", "tiny-bm25")
    assert rc == 0, err
    lines = (tmp_path / "run.txt").read_text().splitlines()
    first = lines[0].split()
    assert first[:4] == ["q1", "Q0", "en1", "1"] and first[5] == "tiny-bm25"
    assert len(lines) <= 4 * 5
    rc, out, err = xlir(capsys, "-q", "eval", str(tiny / "qrels.txt"), str(tmp_path / "run.txt"),
                        "--format", "json", "-m", "P@1", "-m", "nDCG@10", "--per-query")
    assert rc == 0, err
    res = json.loads(out)[str(tmp_path / "run.txt")]
    assert res["mean"]["P@1"] == 1.0  # every English query finds its English document first
    assert res["queries"] == 4 and set(res["per_query"]) == {"q1", "q2", "q3", "q4"}
    assert 0 < res["mean"]["nDCG@10"] < 1  # the French and German relevant docs are missed


def test_single_query_prints_table(built, capsys):
    rc, out, err = xlir(capsys, "search", str(built), "--query", "river delta", "-k", "2")
    assert rc == 0, err
    rows = out.splitlines()
    assert rows[0].split()[:3] == ["rank", "score", "docid"]
    assert rows[1].split()[0] == "1" and rows[1].split()[2] == "en3" and "delta" in rows[1]
    assert len(rows) == 3


def test_search_writes_run_to_stdout(tiny, built, capsys):
    rc, out, err = xlir(capsys, "-q", "search", str(built), "--queries", str(tiny / "queries.tsv"), "-k", "1")
    assert rc == 0
    assert [l.split()[2] for l in out.splitlines()] == ["en1", "en2", "en3", "en4"]


def test_eval_runs_side_by_side_table(tiny, built, tmp_path, capsys):
    for k in ("1", "3"):
        xlir(capsys, "-q", "search", str(built), "--queries", str(tiny / "queries.tsv"), "-k", k,
             "--output", str(tmp_path / f"run{k}"))
    rc, out, err = xlir(capsys, "-q", "eval", str(tiny / "qrels.txt"), str(tmp_path / "run1"), str(tmp_path / "run3"),
                        "-m", "R@3")
    assert rc == 0
    rows = out.splitlines()
    assert rows[0].split() == ["run", "R@3", "queries"]
    r1, r3 = float(rows[1].split()[1]), float(rows[2].split()[1])
    assert r1 == pytest.approx(1 / 3, abs=1e-4) and r3 >= r1


def test_info_and_list(built, capsys):
    rc, out, _ = xlir(capsys, "info", str(built))
    assert rc == 0 and "retriever:  bm25" in out and "documents:  12" in out
    rc, out, _ = xlir(capsys, "info", str(built), "--json")
    assert json.loads(out)["doc_count"] == 12
    rc, out, _ = xlir(capsys, "list")
    assert rc == 0 and any(l.split()[:3] == ["retriever", "bm25", "installed"] for l in out.splitlines())


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"\n', "docs.jsonl:2"),
        ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "duplicate"),
        ('{"id": "", "text": "x"}\n', "docs.jsonl:1"),
        ('{"text": "x"}\n', "docs.jsonl:1"),
    ],
)
def test_bad_corpus_is_one_line_error(tmp_path, capsys, content, message):
    (tmp_path / "docs.jsonl").write_text(content)
    rc, out, err = xlir(capsys, "-q", "index", str(tmp_path / "docs.jsonl"), "--lang", "en", "-o", str(tmp_path / "i"))
    assert rc == 1
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "i").exists() and [p.name for p in tmp_path.iterdir()] == ["docs.jsonl"]


def test_bad_arguments(tiny, built, tmp_path, capsys):
    docs = str(tiny / "docs.jsonl")
    rc, _, err = xlir(capsys, "index", docs, "--lang", "xx", "-o", str(tmp_path / "i"))
    assert rc == 1 and "unknown language code 'xx'; supported:" in err
    rc, _, err = xlir(capsys, "index", docs, "--lang", "en", "-r", "bm52", "-o", str(tmp_path / "i"))
    assert rc == 1 and "did you mean 'bm25'" in err
    rc, _, err = xlir(capsys, "index", docs, "--lang", "en", "-p", "k3=1", "-o", str(tmp_path / "i"))
    assert rc == 1 and "unknown parameter(s) 'k3'" in err
    rc, _, err = xlir(capsys, "index", docs, "--lang", "en", "-o", str(built))
    assert rc == 1 and "already exists" in err
    rc, _, err = xlir(capsys, "search", str(built), "--query", "x", "--queries", str(tiny / "queries.tsv"))
    assert rc == 2 and "exactly one of" in err
    rc, _, err = xlir(capsys, "search", str(tmp_path / "missing"), "--query", "x")
    assert rc == 1 and "no such index" in err
    rc, _, err = xlir(capsys, "eval", str(tiny / "qrels.txt"), str(tiny / "qrels.txt"))
    assert rc == 1 and "qrels.txt:1" in err  # a qrels file is not a 6-column run
    rc, _, err = xlir(capsys, "eval", str(tiny / "qrels.txt"), str(tiny / "qrels.txt"), "-m", "nDCG@@")
    assert rc == 1 and "unknown measure" in err


def test_overwrite_replaces_index(tiny, built, tmp_path, capsys):
    rc, _, err = xlir(capsys, "-q", "index", str(tiny / "docs.jsonl"), "--lang", "fr", "-o", str(built), "--overwrite")
    assert rc == 0, err
    assert json.loads((built / "manifest.json").read_text())["params"]["lang"] == "fr"


def test_debug_shows_traceback(tmp_path, capsys):
    with pytest.raises(Exception, match="no such index"):
        main(["--debug", "search", str(tmp_path / "missing"), "--query", "x"])


def test_datasets_export_xquad_r(tmp_path, capsys):
    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad-r"
    if not data.exists():
        pytest.skip("XQuAD-R data not present")
    rc, out, err = xlir(capsys, "-q", "datasets", "export", "xquad-r", "--data", str(data),
                        "--queries-lang", "eng", "--docs-lang", "de", "--output", str(tmp_path / "x"))
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["docs.jsonl", "qrels.txt", "queries.tsv"]
    rc, _, err = xlir(capsys, "datasets", "export", "xquad-r", "--data", str(data), "--queries-lang", "en",
                      "--output", str(tmp_path / "y"))
    assert rc == 2 and "--pooled" in err


def test_bm25_demo_runs_offline(capsys):
    rc, out, err = xlir(capsys, "demo", "--retriever", "bm25")
    assert rc == 0, err
    assert "same-language retrieval: nDCG@10 1.000" in out
    rc, _, err = xlir(capsys, "demo", "--retriever", "bm25", "--rerank")
    assert rc == 2 and "--rerank reranks the cross-lingual dense demo" in err


def test_help_imports_no_heavy_library():
    code = (
        "import sys, xlir, xlir.cli.main\n"
        "from click.testing import CliRunner\n"
        "r = CliRunner().invoke(xlir.cli.main.cli, ['--help'])\n"
        "assert r.exit_code == 0 and 'index' in r.output, r.output\n"
        "heavy = ('torch', 'faiss', 'transformers', 'pyserini', 'ctranslate2', 'numba', 'scipy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_eval_breaks_score_ties_like_trec_eval():
    from xlir.eval.measures import evaluate

    # a and b tie; trec_eval ranks tied documents by descending id, so b (relevant) is first
    run = {"q": {"a": 1.0, "b": 1.0, "c": 0.5}}
    scores = evaluate({"q": {"b": 1}}, run, ["RR@10", "P@1", "nDCG@10"])
    assert scores == {"RR@10": 1.0, "P@1": 1.0, "nDCG@10": 1.0}
