import os
from pathlib import Path

import pytest

# tests never touch the network
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def tiny() -> Path:
    """A dozen short documents in English, French and German, 4 queries, qrels."""
    return FIXTURES / "tiny"


@pytest.fixture
def tiny_docs(tiny):
    from xlir.io import read_corpus

    return list(read_corpus(tiny / "docs.jsonl"))


@pytest.fixture
def tiny_queries(tiny):
    from xlir.io import read_queries

    return read_queries(tiny / "queries.tsv", lang="en")
