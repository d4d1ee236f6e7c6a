"""Evaluation data sets, loaded from local files into Doc/Query/Qrels."""

from __future__ import annotations

from xlir.datasets.xquad_r import POOLED, XQUAD_R_LANGS, XquadR, export_xquad_r, load_xquad_r

__all__ = ["XQUAD_R_LANGS", "POOLED", "XquadR", "load_xquad_r", "export_xquad_r"]
