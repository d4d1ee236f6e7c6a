"""Distributed jobs: shard planning, resume bookkeeping and commit checks (no cluster),
and the Ray cluster tests of tests/ray_cluster_cases.py run in a loopback-only network
namespace (a real head and worker nodes started with ``ray start``)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xlir.distributed.index import RetrieverSpec, ShardIndexer, _commit, partial_dir
from xlir.distributed.sharding import JobDir, ShardError, plan_shards, read_shard
from xlir.errors import InputError, MissingDependencyError
from xlir.io import read_corpus
from xlir.types import Doc

REPO = Path(__file__).resolve().parents[1]


def _write(path: Path, lines: list[str]) -> Path:
    data = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
    return path


def _docs(n: int, blank_every: int = 4) -> list[str]:
    out = []
    for i in range(n):
        out.append(json.dumps({"id": f"d{i}", "text": f"document number {i} about rivers", "lang": "en"}))
        if i % blank_every == 0:
            out.append("")
    return out


# -- shard planning and reading ------------------------------------------------------------
@pytest.mark.parametrize("name", ["c.jsonl", "c.jsonl.gz"])
def test_shards_cover_the_corpus_in_order(tmp_path, name):
    path = _write(tmp_path / name, _docs(10))
    shards = plan_shards(path, 3)
    assert [s.docs for s in shards] == [3, 3, 4]
    assert shards == plan_shards(path, 3)  # deterministic
    assert [s.first_line for s in shards][0] == 1
    for a, b in zip(shards, shards[1:]):
        assert a.end_line <= b.first_line
    if name.endswith(".gz"):
        assert all(s.byte_start is None for s in shards)
    else:
        assert shards[1].byte_start == shards[0].byte_end or shards[1].byte_start > shards[0].byte_end
    got = [d for s in shards for d in read_shard(path, s)]
    assert got == list(read_corpus(path))
    assert [d.id for d in read_shard(path, shards[1])] == ["d3", "d4", "d5"]


def test_more_shards_than_documents(tmp_path):
    path = _write(tmp_path / "c.jsonl", _docs(2))
    shards = plan_shards(path, 8)
    assert [s.docs for s in shards] == [1, 1]
    with pytest.raises(ValueError, match=">= 1"):
        plan_shards(path, 0)


def test_empty_corpus_is_refused(tmp_path):
    with pytest.raises(InputError, match="no documents"):
        plan_shards(_write(tmp_path / "c.jsonl", ["", "  "]), 2)


def test_shard_errors_name_file_and_line(tmp_path):
    lines = _docs(6, blank_every=100)
    lines[4] = '{"id": "d4", "text": '
    path = _write(tmp_path / "c.jsonl", lines)
    shards = plan_shards(path, 2)
    assert [d.id for d in read_shard(path, shards[0])] == ["d0", "d1", "d2"]
    with pytest.raises(InputError, match=r"c\.jsonl:5: invalid JSON"):
        list(read_shard(path, shards[1]))


def test_tsv_shards_and_duplicates_within_a_shard(tmp_path):
    path = _write(tmp_path / "c.tsv", ["a\tone", "b\ttwo", "a\tthree", "c\tfour"])
    shards = plan_shards(path, 1)
    with pytest.raises(InputError, match=r"c\.tsv:3: duplicate doc id 'a' \(first seen on line 1\)"):
        list(read_shard(path, shards[0], lang="en"))
    ok = _write(tmp_path / "d.tsv", ["a\tone", "b\ttwo"])
    assert list(read_shard(ok, plan_shards(ok, 2)[1], lang="fr")) == [Doc(id="b", text="two", lang="fr")]


def test_a_changed_file_is_detected(tmp_path):
    path = _write(tmp_path / "c.jsonl", _docs(6, blank_every=100))
    shards = plan_shards(path, 2)
    _write(path, _docs(4, blank_every=100))
    with pytest.raises(ShardError, match="changed after the job was planned"):
        list(read_shard(path, shards[1]))


# -- resume bookkeeping ------------------------------------------------------------------------
def _segment(job: JobDir, shard, corpus: Path) -> None:
    ShardIndexer(RetrieverSpec("bm25", {"lang": "en"})).build(str(corpus), "en", None, shard, str(job.folder))


def test_job_dir_resumes_and_restarts(tmp_path):
    corpus = _write(tmp_path / "c.jsonl", _docs(9))
    what = {"retriever": "bm25", "params": {"lang": "en"}}
    folder = tmp_path / "idx.partial"
    job = JobDir(folder, corpus, what, 3)
    assert len(job.shards) == 3 and job.pending() == job.shards
    _segment(job, job.shards[1], corpus)
    assert job.is_done(job.shards[1]) and job.pending() == [job.shards[0], job.shards[2]]
    # the same job again, with or without the shard count: the finished shard is kept
    again = JobDir(folder, corpus, what, None, default_shards=5)
    assert again.shards == job.shards and again.pending() == [job.shards[0], job.shards[2]]
    # another shard count, other params or a changed corpus: start over
    assert len(JobDir(folder, corpus, what, 2).pending()) == 2
    job = JobDir(folder, corpus, what, 3)
    _segment(job, job.shards[0], corpus)
    assert len(JobDir(folder, corpus, {**what, "params": {"lang": "en", "k1": 1.2}}, 3).pending()) == 3
    job = JobDir(folder, corpus, what, 3)
    _segment(job, job.shards[0], corpus)
    _write(corpus, _docs(10))
    assert len(JobDir(folder, corpus, what, None, default_shards=2).shards) == 2


def test_segment_with_wrong_doc_count_is_not_done(tmp_path):
    corpus = _write(tmp_path / "c.jsonl", _docs(6))
    job = JobDir(tmp_path / "p", corpus, {}, 2)
    _segment(job, job.shards[0], corpus)
    manifest = job.output(job.shards[0]) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["doc_count"] = 99
    manifest.write_text(json.dumps(data))
    assert not job.is_done(job.shards[0])


def test_shard_indexer_reuses_a_finished_segment(tmp_path):
    corpus = _write(tmp_path / "c.jsonl", _docs(6))
    job = JobDir(tmp_path / "p", corpus, {}, 2)
    worker = ShardIndexer(RetrieverSpec("bm25", {"lang": "en"}))
    first = worker.build(str(corpus), "en", None, job.shards[0], str(job.folder))
    again = worker.build(str(corpus), "en", None, job.shards[0], str(job.folder))
    assert first["reused"] is False and again["reused"] is True
    seg = job.output(job.shards[0])
    assert json.loads((seg / "manifest.json").read_text())["doc_count"] == 3
    assert (seg / "docids.txt").read_text().split() == ["d0", "d1", "d2"]


def test_commit_refuses_a_missing_shard(tmp_path):
    corpus = _write(tmp_path / "c.jsonl", _docs(9))
    out = tmp_path / "idx"
    spec = RetrieverSpec("bm25", {"lang": "en"})
    job = JobDir(partial_dir(out), corpus, spec.describe(), 3)
    _segment(job, job.shards[0], corpus)
    _segment(job, job.shards[2], corpus)
    with pytest.raises(ShardError, match=r"shard\(s\) \[1\] have no finished segment"):
        _commit(job, out, spec, overwrite=False)
    assert not out.exists()


def test_commit_refuses_duplicate_ids_across_shards(tmp_path):
    from xlir.segments import DuplicateIdError

    lines = _docs(4, blank_every=100) + [json.dumps({"id": "d0", "text": "again"})]
    corpus = _write(tmp_path / "c.jsonl", lines)
    out = tmp_path / "idx"
    spec = RetrieverSpec("bm25", {"lang": "en"})
    job = JobDir(partial_dir(out), corpus, spec.describe(), 2)
    for s in job.shards:
        _segment(job, s, corpus)
    with pytest.raises(DuplicateIdError, match="'d0'"):
        _commit(job, out, spec, overwrite=False)
    assert not out.exists() and all(job.is_done(s) for s in job.shards)  # nothing moved


def test_commit_moves_the_segments_into_the_index(tmp_path):
    import xlir
    from xlir.types import Query

    corpus = _write(tmp_path / "c.jsonl", _docs(9))
    out = tmp_path / "idx"
    spec = RetrieverSpec("bm25", {"lang": "en"})
    job = JobDir(partial_dir(out), corpus, spec.describe(), 3)
    for s in job.shards:
        _segment(job, s, corpus)
    _commit(job, out, spec, overwrite=False)
    assert not partial_dir(out).exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert [e["name"] for e in manifest["segments"]] == ["seg-000000", "seg-000001", "seg-000002"]
    assert manifest["doc_count"] == 9 and manifest["built_with"] == {"engine": "ray", "shards": 3}
    from xlir.registry import RETRIEVERS

    local = RETRIEVERS.create("bm25", lang="en")
    local.index(read_corpus(corpus))
    queries = [Query(id="1", text="number 4 rivers"), Query(id="2", text="document 7")]
    assert xlir.load_index(out).search(queries, k=5) == local.search(queries, k=5)


def test_missing_ray_says_how_to_install(monkeypatch):
    from xlir.distributed.engine import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "xlir\[ray\]"'):
        import_ray()


def test_importing_xlir_distributed_does_not_import_ray():
    code = "import sys, xlir.distributed, xlir.distributed.index, xlir.distributed.search; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the cluster tests -----------------------------------------------------------------------
# A network namespace with only loopback (Ray can only use 127.0.0.1) and a PID namespace
# of its own: `ray stop` there stops this cluster and no other on the machine, and every
# process of the cluster ends with the namespace, whatever happens to the tests.
_UNSHARE = ["unshare", "--net", "--pid", "--fork", "--mount-proc"]


def _cluster_skip_reason() -> str | None:
    if importlib.util.find_spec("ray") is None:
        return 'ray is not installed (pip install "xlir[ray]")'
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the Ray cluster tests need root to create a loopback-only network namespace (unshare --net --pid)"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "the Ray cluster tests need `unshare` and `ip` to create a loopback-only network namespace"
    probe = subprocess.run([*_UNSHARE, "sh", "-c", "ip link set lo up"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create network and PID namespaces here (unshare: {probe.stderr.strip() or probe.returncode})"
    return None


def test_ray_cluster():
    """Start a head and two worker nodes in a loopback-only network namespace and run
    tests/ray_cluster_cases.py against them (Ray would otherwise advertise the machine's
    external address)."""
    reason = _cluster_skip_reason()
    if reason:
        pytest.skip(reason)
    env = dict(os.environ, XLIR_RAY_NAMESPACE="1")
    inner = f"{sys.executable} -m pytest -q -p no:cacheprovider -x --tb=short {REPO / 'tests' / 'ray_cluster_cases.py'}"
    ray = Path(sys.executable).with_name("ray")
    # `ray stop --force` after pytest too, for a clean stop when the inner pytest is killed
    # by its timeout (the PID namespace ends whatever is left anyway)
    script = f"ip link set lo up || exit 1; timeout 360 {inner}; rc=$?; {ray} stop --force >/dev/null 2>&1; exit $rc"
    try:
        proc = subprocess.run([*_UNSHARE, "sh", "-c", script],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=420)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the Ray cluster tests did not finish in {e.timeout}s:\n{e.stdout or ''}\n{e.stderr or ''}")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"Ray cluster tests failed (exit {proc.returncode}):\n{output}"
    assert " passed" in output and "skipped" not in output, output


# -- engine selection (no cluster) -------------------------------------------------------
class _FakeRay:
    def __init__(self, resources):
        self.resources = resources

    def cluster_resources(self):
        return self.resources


def test_workers_take_a_gpu_each_only_for_model_retrievers_on_gpu_clusters():
    from xlir.distributed.engine import uses_device, worker_slots
    from xlir.errors import XlirError
    from xlir.retrievers.bm25 import BM25Params
    from xlir.retrievers.dense import DenseParams

    assert uses_device(DenseParams()) and not uses_device(BM25Params())
    gpus = _FakeRay({"CPU": 16.0, "GPU": 2.0})
    assert worker_slots(gpus, gpu=True) == (2, {"num_gpus": 1, "num_cpus": 1})
    assert worker_slots(gpus, gpu=False) == (16, {"num_cpus": 1})
    assert worker_slots(_FakeRay({"CPU": 3.0}), gpu=True) == (3, {"num_cpus": 1})
    with pytest.raises(XlirError, match="no CPU"):
        worker_slots(_FakeRay({"CPU": 0.0}), gpu=False)


def test_cli_engine_options(tmp_path):
    from click.testing import CliRunner

    from xlir.cli.main import cli

    corpus = _write(tmp_path / "c.jsonl", _docs(3))
    runner = CliRunner()
    for command in (["index", str(corpus), "--lang", "en", "-o", str(tmp_path / "i")],
                    ["translate", str(corpus), "--tgt", "de", "--translator", "table:x.tsv", "-o", str(tmp_path / "o.jsonl")]):
        r = runner.invoke(cli, [*command, "--shards", "2"])
        assert r.exit_code == 2 and "--address and --shards need --engine ray" in r.output, r.output
    r = runner.invoke(cli, ["search", str(tmp_path / "i"), "--query", "x", "--address", "h:1"])
    assert r.exit_code == 2 and "need --engine ray" in r.output, r.output
    r = runner.invoke(cli, ["index", "--help"])
    assert "--engine [local|ray]" in r.output and "--shards" in r.output
    # the default engine is unchanged: in-process, no Ray
    r = runner.invoke(cli, ["index", str(corpus), "--lang", "en", "-o", str(tmp_path / "i")])
    assert r.exit_code == 0, r.output
    assert "built_with" not in json.loads((tmp_path / "i" / "manifest.json").read_text())


def test_a_retriever_without_segments_is_refused_before_any_work(tmp_path):
    from xlir.distributed.index import build_index
    from xlir.segments import SegmentsUnsupportedError

    corpus = _write(tmp_path / "c.jsonl", _docs(3))
    with pytest.raises(SegmentsUnsupportedError, match="lucene-bm25 indexes do not support segments"):
        build_index(corpus, tmp_path / "idx", RetrieverSpec("lucene-bm25", {"lang": "en"}), address="127.0.0.1:1")
    assert not partial_dir(tmp_path / "idx").exists()


def test_segments_of_translated_documents_carry_the_translation(tmp_path):
    """What each worker does for ``xlir index --engine ray --translate-docs``: the retriever
    is wrapped to translate its shard first, and the committed index records it."""
    import xlir
    from xlir.cli.translate import TranslationOptions
    from xlir.io import write_corpus
    from xlir.types import Query

    corpus = tmp_path / "de.jsonl"
    table = tmp_path / "table.jsonl"
    write_corpus([Doc(id=f"t{i}", text=f"Satz {i} über den Fluss", lang="de") for i in range(6)], corpus)
    write_corpus([Doc(id=f"t{i}", text=f"sentence {i} about the river" + (" bridge" if i == 4 else ""), lang="en")
                  for i in range(6)], table)
    options = TranslationOptions(translator=f"table:{table}", translate_docs=True, translate_to="en",
                                 cache_dir=tmp_path / "cache")
    spec = RetrieverSpec("bm25", {"lang": "en"}, options)
    out = tmp_path / "idx"
    job = JobDir(partial_dir(out), corpus, spec.describe(), 2)
    worker = ShardIndexer(spec)
    for s in job.shards:
        worker.build(str(corpus), "de", None, s, str(job.folder))
    _commit(job, out, spec, overwrite=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["translation"]["tgt"] == "en" and manifest["doc_count"] == 6
    run = xlir.load_index(out).search([Query(id="q", text="bridge", lang="en")], k=3)
    assert list(run["q"]) == ["t4"]
