"""Fusion (xlir.fusion, `xlir fuse`) against values computed by hand."""

import json
import math

import pytest

from xlir.cli.main import main
from xlir.errors import InputError, ParamError
from xlir.fusion import FusionSpec, fuse
from xlir.io import read_run, write_run


# q1: b and c tie in A (b is ranked first: docid order); a and e tie in C (a first).
A = {"q1": {"a": 3.0, "b": 2.0, "c": 2.0, "d": 1.0}, "q2": {"x": 1.0, "y": 0.5}}
B = {"q1": {"c": 0.9, "e": 0.5, "a": 0.1}, "q3": {"z": 2.0}}
C = {"q1": {"e": 10.0, "a": 10.0}}


def order(run, qid):
    return list(run[qid])


def test_rrf_by_hand():
    fused = fuse([A, B])  # rrf, rrf_k = 60
    # A ranks a, b, c, d (b before c: tie by docid); B ranks c, e, a.
    expected = {
        "a": 1 / 61 + 1 / 63,
        "c": 1 / 63 + 1 / 61,
        "b": 1 / 62,
        "e": 1 / 62,
        "d": 1 / 64,
    }
    assert fused["q1"] == pytest.approx(expected, rel=1e-12)
    assert order(fused, "q1") == ["a", "c", "b", "e", "d"]  # equal fused scores: docid order
    # queries one run lacks: the other run alone
    assert fused["q2"] == pytest.approx({"x": 1 / 61, "y": 1 / 62})
    assert fused["q3"] == pytest.approx({"z": 1 / 61})


def test_rrf_three_runs_and_its_constant():
    fused = fuse([A, B, C], "rrf", rrf_k=1)
    assert fused["q1"] == pytest.approx({
        "a": 1 / 2 + 1 / 4 + 1 / 2,
        "c": 1 / 4 + 1 / 2,
        "e": 1 / 3 + 1 / 3,
        "b": 1 / 3,
        "d": 1 / 5,
    })
    assert order(fused, "q1") == ["a", "c", "e", "b", "d"]


def test_rrf_ties_follow_the_written_run_order():
    # the same run read back from its TREC file fuses to the same result
    tied = {"q1": {"m": 1.0, "k": 1.0, "l": 1.0}}
    other = {"q1": {"l": 5.0}}
    fused = fuse([tied, other])
    assert fused["q1"] == pytest.approx({"k": 1 / 61, "l": 1 / 62 + 1 / 61, "m": 1 / 63})
    assert order(fused, "q1") == ["l", "k", "m"]


def test_rrf_of_files_equals_rrf_in_memory(tmp_path):
    write_run(A, tmp_path / "a.run")
    write_run(B, tmp_path / "b.run")
    from_files = fuse([read_run(tmp_path / "a.run"), read_run(tmp_path / "b.run")])
    assert from_files == fuse([A, B])


def test_min_max_linear_interpolation_by_hand():
    fused = fuse([A, B], "wsum", weights=[0.25, 0.75])
    # min-max per query and run: A q1 a=1, b=.5, c=.5, d=0; B q1 c=1, e=.5, a=0; missing docs count 0
    assert fused["q1"] == pytest.approx({
        "c": 0.25 * 0.5 + 0.75 * 1.0,
        "e": 0.75 * 0.5,
        "a": 0.25 * 1.0,
        "b": 0.25 * 0.5,
        "d": 0.0,
    })
    assert order(fused, "q1") == ["c", "e", "a", "b", "d"]
    assert fused["q2"] == pytest.approx({"x": 0.25, "y": 0.0})
    assert fused["q3"] == pytest.approx({"z": 0.0})  # a single score normalizes to 0


def test_wsum_default_weights_are_equal_and_norm_none_keeps_raw_scores():
    assert fuse([A, B], "wsum")["q1"] == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.75, "d": 0.0, "e": 0.25})
    raw = fuse([A, B], "wsum", weights=[1, 2], norm="none")
    assert raw["q1"] == pytest.approx({"a": 3.2, "b": 2.0, "c": 3.8, "d": 1.0, "e": 1.0})


def test_combsum_and_combmnz_by_hand():
    assert fuse([A, B], "combsum")["q1"] == pytest.approx({"a": 1.0, "b": 0.5, "c": 1.5, "d": 0.0, "e": 0.5})
    # CombMNZ: the sum times the number of runs that returned the document
    assert fuse([A, B], "combmnz")["q1"] == pytest.approx({"a": 2.0, "b": 0.5, "c": 3.0, "d": 0.0, "e": 0.5})


def test_cutoff_and_empty_runs():
    assert list(fuse([A, B], k=2)["q1"]) == ["a", "c"]
    assert fuse([{"q": {}}, {"q": {}}]) == {}
    assert fuse([{"q": {"a": 1.0}}, {}]) == {"q": pytest.approx({"a": 1 / 61})}


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "wsum", "weights": [1.0]}, "1 weights for 2 runs"),
    ({"method": "wsum", "weights": [1.0, -1.0]}, "finite numbers >= 0"),
    ({"method": "wsum", "weights": [1.0, math.nan]}, "finite numbers >= 0"),
    ({"method": "wsum", "weights": [0, 0]}, "must not all be zero"),
    ({"method": "wsum", "weights": "0.5,0.5"}, "a list of numbers"),
    ({"method": "rrf", "weights": [1, 1]}, "weights apply to method wsum only"),
    ({"method": "rrf", "norm": "min-max"}, "rrf fuses ranks"),
    ({"method": "wsum", "norm": "l2"}, "unknown normalization 'l2'"),
    ({"method": "borda"}, "unknown fusion method 'borda'"),
    ({"method": "rrf", "rrf_k": -1}, "rrf_k must be an integer >= 0"),
    ({"method": "wsum", "rrf_k": 10}, "rrf_k applies to method rrf only"),
])
def test_bad_parameters_are_refused(kwargs, message):
    with pytest.raises(ParamError, match=message):
        fuse([A, B], **kwargs)


def test_bad_runs_are_refused():
    with pytest.raises(ParamError, match="at least two runs"):
        fuse([A])
    with pytest.raises(InputError, match="run 2: score nan of doc 'a' for query 'q1'"):
        fuse([A, {"q1": {"a": math.nan}}])


def test_spec_as_dict_round_trip():
    spec = FusionSpec.create("wsum", weights=[0.3, 0.7], runs=2)
    assert spec.as_dict() == {"method": "wsum", "norm": "min-max", "weights": [0.3, 0.7]}
    assert FusionSpec.create("rrf").as_dict() == {"method": "rrf", "rrf_k": 60}


# -- xlir fuse ----------------------------------------------------------------------------------------
def xlir(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_fuse_writes_run_and_sidecar(tmp_path, capsys):
    write_run(A, tmp_path / "a.run", tag="A")
    write_run(B, tmp_path / "b.run", tag="B")
    rc, out, err = xlir(capsys, "-q", "fuse", str(tmp_path / "a.run"), str(tmp_path / "b.run"), "--method", "wsum",
                        "--weights", "0.25,0.75", "-o", str(tmp_path / "f.run"))
    assert rc == 0, err
    fused = read_run(tmp_path / "f.run")
    assert list(fused["q1"]) == ["c", "e", "a", "b", "d"]
    assert fused["q1"]["c"] == pytest.approx(0.875)
    lines = (tmp_path / "f.run").read_text().splitlines()
    assert lines[0].split() == ["q1", "Q0", "c", "1", "0.875", "fuse-wsum"]
    meta = json.loads((tmp_path / "f.run.meta.json").read_text())
    assert meta["format"] == "xlir.run-meta" and meta["tag"] == "fuse-wsum"
    assert meta["fusion"] == {"method": "wsum", "norm": "min-max", "weights": [0.25, 0.75]}
    assert [i["path"] for i in meta["inputs"]] == [str((tmp_path / n).resolve()) for n in ("a.run", "b.run")]
    assert all(len(i["sha256"]) == 64 and i["meta"] is None for i in meta["inputs"])


def test_cli_fuse_rrf_to_stdout_with_cutoff(tmp_path, capsys):
    write_run(A, tmp_path / "a.run")
    write_run(B, tmp_path / "b.run")
    rc, out, err = xlir(capsys, "-q", "fuse", str(tmp_path / "a.run"), str(tmp_path / "b.run"), "-k", "2",
                        "--run-name", "both")
    assert rc == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert [(r[0], r[2], r[3]) for r in rows if r[0] == "q1"] == [("q1", "a", "1"), ("q1", "c", "2")]
    assert all(r[5] == "both" for r in rows)


def test_cli_fuse_errors(tmp_path, capsys):
    write_run(A, tmp_path / "a.run")
    write_run(B, tmp_path / "b.run")
    rc, _, err = xlir(capsys, "fuse", str(tmp_path / "a.run"), "-o", str(tmp_path / "f.run"))
    assert rc == 2 and "two or more runs" in err
    rc, _, err = xlir(capsys, "fuse", str(tmp_path / "a.run"), str(tmp_path / "b.run"), "-m", "wsum", "-w", "1")
    assert rc == 1 and "1 weights for 2 runs" in err
    rc, _, err = xlir(capsys, "fuse", str(tmp_path / "a.run"), str(tmp_path / "b.run"), "-w", "0.5,x")
    assert rc == 2 and "comma-separated numbers" in err
    rc, _, err = xlir(capsys, "fuse", str(tmp_path / "a.run"), str(tmp_path / "b.run"), "--norm", "max")
    assert rc == 1 and "rrf fuses ranks" in err
    assert not (tmp_path / "f.run").exists()
