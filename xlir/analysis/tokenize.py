"""Tokenization: one regex finds candidate words, a second splits them into script runs.

A word is a run of letters, digits and combining marks (``\\w`` alone would cut Hindi
words at every vowel sign, the main reason bm25s scores 0.75 on Hindi where Lucene scores
0.95), optionally joined by apostrophes. Runs of CJK are split into overlapping bigrams
(Lucene's CJKAnalyzer); runs of Thai into bigrams of character clusters
(:func:`thai_bigrams`).
"""

from __future__ import annotations

import logging
import re
from functools import cache
from operator import add

from xlir.analysis.normalize import APOSTROPHES, INVISIBLE
from xlir.analysis.unicode import CJK, THAI, marks_class

logger = logging.getLogger(__name__)

__all__ = ["word_regex", "run_regex", "bigrams", "thai_bigrams"]


@cache
def word_regex() -> re.Pattern[str]:
    """Regex of candidate tokens in raw text (``_`` and mixed scripts are split later)."""
    body = f"[\\w{marks_class()}{INVISIBLE}]+"
    return re.compile(f"{body}(?:[{APOSTROPHES}]{body})*")


@cache
def run_regex() -> re.Pattern[str]:
    """Regex splitting a normalized word into (cjk, thai, other) script runs."""
    other = f"(?:[^\\W_{CJK}{THAI}]|[{marks_class()}])+"
    return re.compile(f"([{CJK}]+)|([{THAI}]+)|({other})")


def bigrams(run: str) -> list[str]:
    """Overlapping character bigrams of ``run``; a single character is kept as a unigram."""
    if len(run) < 3:
        return [run]
    return list(map(add, run, run[1:]))


# A Thai character cluster: optional leading vowel, a base letter with its combining
# vowels/tone marks, optional trailing vowel (sara a, aa, am, lakkhangyao).
_THAI_CLUSTER = re.compile(
    "[\u0e40-\u0e44]?[^\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0e30\u0e32\u0e33\u0e45]"
    "[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]*[\u0e30\u0e32\u0e33\u0e45]?|.",
    re.S,
)


def thai_bigrams(run: str) -> list[str]:
    """Overlapping bigrams of the Thai character clusters (roughly syllables) of ``run``.

    Thai has no spaces between words. On XQuAD-R th->th (BM25, nDCG@10) cluster bigrams
    score 0.971, pythainlp's dictionary segmenter newmm 0.968 (0.965 with its stopwords),
    Lucene's ThaiAnalyzer 0.957, plain character bigrams 0.921: a vowel sign or tone mark
    is no unit of meaning, and pairing it with one neighbour makes noisy terms. Cluster
    bigrams are the best and need no dictionary or optional dependency, so we use them.
    """
    clusters = _THAI_CLUSTER.findall(run)
    if len(clusters) < 3:
        return ["".join(clusters)]
    return list(map(add, clusters, clusters[1:]))
