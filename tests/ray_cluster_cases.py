"""Ray cluster tests, run by tests/test_ray.py inside a loopback-only network namespace.

Not collected on its own (the name does not start with ``test_``): the outer test runs
``unshare --net --pid --fork --mount-proc sh -c 'ip link set lo up; python -m pytest tests/ray_cluster_cases.py'``
as root, so that Ray can only use 127.0.0.1. Here a real multi-node cluster is started
with ``ray start`` (a head without CPUs and two one-CPU worker nodes, all separate
processes), the library connects to it with ``ray.init(address=...)``, and
``ray stop --force`` tears it down at the end, whatever happened.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from xlir.distributed.index import RetrieverSpec, build_index, partial_dir
from xlir.types import Doc, Query

REPO = Path(__file__).resolve().parents[1]
RAY = str(Path(sys.executable).with_name("ray"))
PORT = 6391
ADDRESS = f"127.0.0.1:{PORT}"

if os.environ.get("XLIR_RAY_NAMESPACE") != "1":
    pytest.skip("run through tests/test_ray.py (needs a loopback-only network namespace)", allow_module_level=True)


def _interfaces() -> list[str]:
    import socket

    return sorted(name for _, name in socket.if_nameindex())  # of this network namespace (sysfs may show another)


def _ray(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([RAY, *args], capture_output=True, text=True, env=env, timeout=120)
    if check and proc.returncode != 0:
        raise RuntimeError(f"ray {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head (no CPUs: it only schedules) and two worker nodes of one CPU each."""
    if _interfaces() != ["lo"]:
        pytest.fail(f"not in a loopback-only network namespace: interfaces {_interfaces()}")
    # Ray 2.60 turns token authentication on by itself when it finds ~/.ray/auth_token (which
    # any local ray.init() writes): the cluster and every client here use a token of their own
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    env = dict(os.environ)
    # worker processes inherit the raylet's environment: they import the test helpers below
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO / "tests"), str(REPO), env.get("PYTHONPATH")] if p)
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    # a short folder of its own: Ray's socket paths must stay under the 107-byte AF_UNIX limit
    temp = Path(tempfile.mkdtemp(prefix="xlir-ray-", dir="/tmp"))
    common = ["--node-ip-address=127.0.0.1", "--object-store-memory=80000000", "--disable-usage-stats"]
    try:
        _ray("start", "--head", f"--port={PORT}", "--num-cpus=0", "--include-dashboard=false",
             f"--temp-dir={temp}", *common, env=env)
        for _ in range(2):  # one after the other: two `ray start` on one machine at once time out
            _ray("start", f"--address={ADDRESS}", "--num-cpus=1", f"--temp-dir={temp}", *common, env=env)
        import ray

        ray.init(address=ADDRESS, logging_level="WARNING")
        deadline = time.time() + 60
        while ray.cluster_resources().get("CPU", 0) < 2 and time.time() < deadline:
            time.sleep(0.5)
        nodes = [n for n in ray.nodes() if n["Alive"]]
        assert len(nodes) == 3 and {n["NodeManagerAddress"] for n in nodes} == {"127.0.0.1"}, nodes
        assert ray.cluster_resources()["CPU"] == 2
        yield ray
    finally:
        try:
            import ray

            ray.shutdown()
        finally:
            _ray("stop", "--force", check=False)
            for _ in range(3):  # processes that are still exiting may write a last log file
                shutil.rmtree(temp, ignore_errors=True)
                if not temp.exists():
                    break
                time.sleep(1)


# -- a corpus -----------------------------------------------------------------------------
WORDS = ("river bank money loan water fish boat bridge city market trade price stone road king queen castle "
         "forest tree leaf rain storm cloud sun moon star night light dark music song dance paper book school "
         "teacher student science energy power engine train station ticket travel").split()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    rng = np.random.default_rng(7)
    path = tmp_path_factory.mktemp("corpus") / "docs.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for i in range(400):
            words = rng.choice(WORDS, size=int(rng.integers(5, 30)))
            f.write(json.dumps({"id": f"d{i:04d}", "text": " ".join(words)}) + "\n")
            if i % 97 == 0:
                f.write("\n")  # blank lines are skipped, as read_corpus does
    return path


@pytest.fixture(scope="module")
def queries() -> list[Query]:
    rng = np.random.default_rng(11)
    return [Query(id=f"q{i}", text=" ".join(rng.choice(WORDS, size=3, replace=False)), lang="en") for i in range(40)]


@pytest.fixture(scope="module")
def local_model(corpus):
    """The same corpus indexed in-process, as `xlir index` without --engine does."""
    from xlir.io import read_corpus
    from xlir.registry import RETRIEVERS

    model = RETRIEVERS.create("bm25", lang="en")
    model.index(read_corpus(corpus, lang="en"))
    return model


@pytest.fixture(scope="module")
def local_run(local_model, queries):
    return local_model.search(queries, k=20)


def _search(path: Path, queries, k=20):
    import xlir

    return xlir.load_index(path).search(queries, k=k)


# -- test helpers that run inside Ray workers (imported there through PYTHONPATH) -------------
@dataclass(frozen=True)
class CrashOnceSpec(RetrieverSpec):
    """BM25, but the worker process indexing ``doc_id`` kills itself (SIGKILL) the first
    time; ``log`` gets one line per shard indexed (pid and first doc id)."""

    marker: str = ""
    doc_id: str = ""
    log: str = ""
    block: str = ""  # a doc id whose shard waits until the process is killed
    always: bool = False  # kill the process every time, not only the first

    def create(self):
        return _Crashing(super().create(), self)


class _Crashing:
    def __init__(self, inner, spec: CrashOnceSpec):
        self.inner, self.spec = inner, spec

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def index(self, docs, **kwargs):
        docs = list(docs)
        ids = {d.id for d in docs}
        if self.spec.log:
            with open(self.spec.log, "a") as f:
                f.write(f"{os.getpid()} {docs[0].id}\n")
        if self.spec.doc_id in ids and (self.spec.always or not os.path.exists(self.spec.marker)):
            if not self.spec.always:
                Path(self.spec.marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-shard, as on an OOM kill
        if self.spec.block and self.spec.block in ids:
            time.sleep(600)
        return self.inner.index(docs, **kwargs)


def _log_lines(path: Path) -> list[str]:
    return path.read_text().split("\n")[:-1] if path.exists() else []


# -- tests -----------------------------------------------------------------------------------
def test_cluster_is_multi_node_on_loopback(cluster):
    nodes = [n for n in cluster.nodes() if n["Alive"]]
    assert len(nodes) == 3
    assert all(n["NodeManagerAddress"] == "127.0.0.1" for n in nodes)


def test_bm25_sharded_index_matches_in_process(cluster, corpus, queries, local_run, tmp_path):
    out = tmp_path / "idx"
    summary = build_index(corpus, out, RetrieverSpec("bm25", {"lang": "en"}), lang="en", shards=3, address=ADDRESS)
    assert summary["docs"] == 400 and summary["shards"] == 3 and summary["computed"] == [0, 1, 2]
    assert not partial_dir(out).exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["segments"]) == 3
    pids = {r["pid"] for r in summary["results"]}
    assert len(pids) == 2  # two worker nodes, one actor each
    # each actor created its retriever once, for the first of its shards
    assert sum("load_seconds" in r for r in summary["results"]) == 2
    run = _search(out, queries)
    assert run == local_run


def test_killed_worker_shard_is_retried(cluster, corpus, queries, local_run, tmp_path):
    marker, log = tmp_path / "killed", tmp_path / "log"
    spec = CrashOnceSpec("bm25", {"lang": "en"}, marker=str(marker), doc_id="d0250", log=str(log))
    out = tmp_path / "idx"
    summary = build_index(corpus, out, spec, lang="en", shards=4, address=ADDRESS, max_attempts=3)
    assert marker.exists()  # a worker really was killed
    killed_pid = int(marker.read_text())
    assert 2 in summary["restarted"], summary  # d0250 is in shard 2 of 4; its actor was restarted
    shard2 = [r for r in summary["results"] if r["shard"] == 2][0]
    assert shard2["pid"] != killed_pid
    assert len(_log_lines(log)) == 5  # four shards, one of them twice
    assert _search(out, queries) == local_run


def test_worker_killed_every_time_fails_the_job(cluster, corpus, tmp_path):
    from xlir.distributed.sharding import ShardError

    spec = CrashOnceSpec("bm25", {"lang": "en"}, doc_id="d0010", always=True)
    out = tmp_path / "idx"
    with pytest.raises(ShardError, match="died 2 time"):
        build_index(corpus, out, spec, lang="en", shards=2, address=ADDRESS, max_attempts=2)
    assert not out.exists()  # nothing committed
    assert partial_dir(out).exists()


def test_rerun_after_driver_crash_reuses_finished_shards(cluster, corpus, queries, local_run, tmp_path):
    log = tmp_path / "log"
    out = tmp_path / "idx"
    # The driver runs in its own process; shard 3 never finishes, and the driver is killed
    # once the others are saved: what a crashed driver leaves behind.
    script = f"""
import sys
sys.path[:0] = {[str(REPO / 'tests'), str(REPO)]!r}
from ray_cluster_cases import CrashOnceSpec
from xlir.distributed.index import build_index
spec = CrashOnceSpec("bm25", {{"lang": "en"}}, marker="", doc_id="", log={str(log)!r}, block="d0399")
build_index({str(corpus)!r}, {str(out)!r}, spec, lang="en", shards=4, address={ADDRESS!r})
"""
    driver = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    part = partial_dir(out)
    deadline = time.time() + 90
    try:
        while time.time() < deadline:
            done = [p for p in part.glob("seg-*") if (p / "manifest.json").exists()]
            if len(done) == 3:
                break
            assert driver.poll() is None, driver.stdout.read().decode()
            time.sleep(0.2)
        assert len(done) == 3, "the first shards did not finish in time"
    finally:
        driver.kill()
        driver.wait()
    assert not out.exists()
    mtimes = {p.name: (p / "manifest.json").stat().st_mtime_ns for p in done}
    before = len(_log_lines(log))
    time.sleep(1.0)  # let Ray clean up the dead driver's actors
    summary = build_index(corpus, out, CrashOnceSpec("bm25", {"lang": "en"}, log=str(log)), lang="en",
                          address=ADDRESS)  # no --shards: the plan of the crashed run is resumed
    assert summary["reused"] == [0, 1, 2] and summary["computed"] == [3]
    assert len(_log_lines(log)) == before + 1  # only the unfinished shard was indexed again
    for name, mtime in mtimes.items():
        assert (out / name / "manifest.json").stat().st_mtime_ns == mtime
    assert _search(out, queries) == local_run


def test_fan_out_search_matches_merged_and_in_process(cluster, corpus, queries, local_model, local_run, tmp_path):
    from xlir.distributed.search import FanOutSearcher

    out = tmp_path / "idx"
    build_index(corpus, out, RetrieverSpec("bm25", {"lang": "en"}), lang="en", shards=4, address=ADDRESS)
    searcher = FanOutSearcher(out, address=ADDRESS, holders=2)
    try:
        assert len(searcher.holders) == 2
        run = searcher.search(queries, k=20, batch_size=16)
        assert run == local_run == _search(out, queries)
        few = searcher.search(queries[:3], k=5)
        assert few == local_model.search(queries[:3], k=5) == _search(out, queries[:3], k=5)
        # a holder whose process is killed is restarted, reloads its segments and takes the
        # collection's statistics again: the next search is still exact
        pid = cluster.get(searcher.holders[1].pid.remote())
        os.kill(pid, signal.SIGKILL)
        assert searcher.search(queries, k=20) == local_run
        assert cluster.get(searcher.holders[1].pid.remote()) != pid
    finally:
        searcher.close()


def test_dense_sharded_index_with_one_model_per_actor(cluster, tmp_path):
    """multilingual-e5-small (offline copy), 3 shards on 2 actors: each loads the model
    once; every score equals the in-process index's within float16 rounding (batches differ
    between the runs, so the last bits may), and so does the best document."""
    pytest.importorskip("sentence_transformers")
    from xlir.io import read_corpus, write_corpus
    from xlir.registry import RETRIEVERS

    corpus = tmp_path / "docs.jsonl"
    texts = ["The river flooded the old town.", "Der Fluss trat über die Ufer.", "Stock markets fell sharply.",
             "Les marchés boursiers ont chuté.", "A new bridge over the river opened.", "Die Schule beginnt um acht.",
             "The school day starts at eight.", "La rivière a débordé.", "Interest rates are rising.", "Train tickets got cheaper."]
    write_corpus([Doc(id=f"e{i}", text=t) for i, t in enumerate(texts)], corpus)
    params = {"lang": "multi", "batch_size": 4}
    out = tmp_path / "dense"
    summary = build_index(corpus, out, RetrieverSpec("dense", params), shards=3, address=ADDRESS)
    assert summary["shards"] == 3 and sum("load_seconds" in r for r in summary["results"]) == 2
    local = RETRIEVERS.create("dense", **params)
    local.index(read_corpus(corpus))
    qs = [Query(id="1", text="river flood"), Query(id="2", text="Börse fällt"), Query(id="3", text="école")]
    got, want = _search(out, qs, k=10), local.search(qs, k=10)
    for q in want:  # k=10: every document, so each one's score is compared
        assert set(got[q]) == set(want[q]) and next(iter(got[q])) == next(iter(want[q]))
        assert np.allclose([got[q][d] for d in want[q]], list(want[q].values()), atol=2e-3)


def test_distributed_translation_matches_in_process(cluster, tmp_path):
    from xlir.distributed.translate import TranslatorSpec, translate_corpus
    from xlir.io import read_corpus, write_corpus
    from xlir.translate import get_translator, translate_docs

    src = tmp_path / "de.jsonl"
    table = tmp_path / "table.jsonl"
    docs = [Doc(id=f"t{i}", text=f"Satz {i} über den Fluss.", lang="de") for i in range(30)]
    write_corpus(docs, src)
    write_corpus([Doc(id=d.id, text=f"sentence {i} about the river", lang="en") for i, d in enumerate(docs)], table)
    expected = tmp_path / "expected.jsonl"
    write_corpus(translate_docs(read_corpus(src), get_translator(f"table:{table}"), tgt="en"), expected)
    out = tmp_path / "en.jsonl"
    summary = translate_corpus(src, out, TranslatorSpec(f"table:{table}"), tgt="en", shards=3, address=ADDRESS)
    assert summary["docs"] == 30 and summary["computed"] == [0, 1, 2]
    assert out.read_bytes() == expected.read_bytes()
    assert not out.with_name(out.name + ".partial").exists()


def test_cli_index_and_search_with_ray_engine(cluster, corpus, queries, tmp_path):
    from click.testing import CliRunner

    from xlir.cli.main import cli
    from xlir.io import write_queries

    qfile = tmp_path / "q.tsv"
    write_queries(queries, qfile)
    out = tmp_path / "idx"
    runner = CliRunner()
    r = runner.invoke(cli, ["index", str(corpus), "--lang", "en", "-o", str(out), "--engine", "ray",
                            "--address", ADDRESS, "--shards", "2"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert len(json.loads((out / "manifest.json").read_text())["segments"]) == 2
    local = tmp_path / "local.trec"
    fanned = tmp_path / "ray.trec"
    common = ["search", str(out), "--queries", str(qfile), "--query-lang", "en", "-k", "20", "--run-name", "x"]
    r = runner.invoke(cli, [*common, "-o", str(local)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, [*common, "-o", str(fanned), "--engine", "ray", "--address", ADDRESS, "--shards", "2"],
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert fanned.read_text() == local.read_text() and local.stat().st_size > 0
