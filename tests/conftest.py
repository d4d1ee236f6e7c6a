import logging
import os
from pathlib import Path

import pytest

# tests never touch the network
os.environ["HF_HUB_OFFLINE"] = "1"  # forced, not defaulted: a model name must never reach the Hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"

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


@pytest.fixture(autouse=True)
def cli_logging():
    """`xlir` (main) points the xlir logger at the stderr of the moment; put it back after each test."""
    logger = logging.getLogger("xlir")
    saved = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:], logger.level, logger.propagate = saved
