"""Rerankers: rescore the top documents of a run (cross-encoder, adapter-composed cross-encoder).

Importing this package loads no torch; each reranker imports its libraries on first use.
"""
