"""Every registered retriever whose dependencies are installed passes the same contract."""

import numpy as np
import pytest

from xlir import load_index
from xlir.errors import IndexExistsError
from xlir.protocols import Retriever
from xlir.registry import RETRIEVERS
from xlir.types import Query

NAMES = RETRIEVERS.names()


@pytest.fixture(params=NAMES)
def retriever_name(request):
    if not RETRIEVERS.is_available(request.param):
        pytest.skip(f"{request.param}: optional dependencies not installed")
    return request.param


def test_index_search_save_load_same_results(retriever_name, tiny_docs, tmp_path):
    r = RETRIEVERS.create(retriever_name, lang="en")
    assert isinstance(r, Retriever)
    english = [d for d in tiny_docs if d.lang == "en"]
    r.index(english)
    queries = [Query("q1", "cats hunting mice", "en"), Query("q3", "river delta", "en")]
    run = r.search(queries, k=3)
    assert list(run["q1"])[0] == "en1" and list(run["q3"])[0] == "en3"
    assert all(len(v) <= 3 for v in run.values())
    scores = list(run["q1"].values())
    assert scores == sorted(scores, reverse=True)

    r.save(tmp_path / "idx")
    with pytest.raises(IndexExistsError):
        r.save(tmp_path / "idx")
    loaded = load_index(tmp_path / "idx")
    assert type(loaded) is type(r) and loaded.doc_count == len(english)
    assert _has_memmap(loaded)  # arrays are memory-mapped, not read into memory
    assert loaded.search(queries, k=3) == run
    assert loaded.docs["en2"].text == english[1].text

    # a loaded index can be saved again (e.g. copied) and still answers the same
    loaded.save(tmp_path / "copy")
    assert load_index(tmp_path / "copy").search(queries, k=3) == run


def _has_memmap(obj, depth=0):
    if isinstance(obj, np.memmap):
        return True
    if depth > 2 or not hasattr(obj, "__dict__"):
        return False
    return any(_has_memmap(v, depth + 1) for v in vars(obj).values())
