"""Evaluation data sets, loaded from local files (or the Hub) into one :class:`Collection` shape."""

from __future__ import annotations

from xlir.datasets.base import CATALOGUE, Collection, CollectionInfo, write_collection
from xlir.datasets.clirudit import CLIRUDIT_DOCS_LANGS, CLIRUDIT_HUB_NAME, export_clirudit, load_clirudit
from xlir.datasets.generic import export_beir, load_beir, load_files, read_beir_qrels
from xlir.datasets.hc4 import (
    HC4_LANGS,
    HC4_MT_SOURCE,
    HC4_QUERY_FIELDS,
    HC4_SPLITS,
    export_hc4,
    iter_hc4_docs,
    load_hc4,
)
from xlir.datasets.xquad_r import POOLED, XQUAD_R_LANGS, XquadR, export_xquad_r, load_xquad_r

__all__ = [
    "Collection",
    "CollectionInfo",
    "CATALOGUE",
    "write_collection",
    "XQUAD_R_LANGS",
    "POOLED",
    "XquadR",
    "load_xquad_r",
    "export_xquad_r",
    "CLIRUDIT_HUB_NAME",
    "CLIRUDIT_DOCS_LANGS",
    "load_clirudit",
    "export_clirudit",
    "HC4_LANGS",
    "HC4_SPLITS",
    "HC4_QUERY_FIELDS",
    "HC4_MT_SOURCE",
    "load_hc4",
    "export_hc4",
    "iter_hc4_docs",
    "load_files",
    "load_beir",
    "read_beir_qrels",
    "export_beir",
]
