# Two commands on a fresh machine: `make demo` and `make test`. Both work offline.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test bench-bm25 clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

demo: $(BIN)/python
	$(PIP) -e ".[dense]"
	$(BIN)/xlir demo

test: $(BIN)/python
	$(PIP) -e ".[dense,translate,lucene,bench,rerank,ray,test]"
	$(BIN)/python -m pytest -q

DATA ?= ../shared/data
bench-bm25: $(BIN)/python
	$(PIP) -e ".[bench]"
	$(BIN)/python benchmarks/bm25_quality.py --data $(DATA)
	$(BIN)/python benchmarks/bm25_speed.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
