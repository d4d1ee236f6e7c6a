"""Numba kernels of the sparse index engine (imported only when searching).

Scoring is term-at-a-time into a dense accumulator with a list of touched documents,
then a bounded min-heap picks the top k among the touched documents only; the
accumulator is reset through the touched list, so one query costs O(postings + touched)
rather than O(n_docs). This is the product's hot loop, hence hand-written.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _worse(s1, d1, s2, d2):
    # (s1, d1) ranks below (s2, d2): lower score, or same score and higher doc index
    return s1 < s2 or (s1 == s2 and d1 > d2)


@njit(cache=True)
def _sift_down(hs, hd, i, n):
    while True:
        left = 2 * i + 1
        if left >= n:
            return
        worst = left
        right = left + 1
        if right < n and _worse(hs[right], hd[right], hs[left], hd[left]):
            worst = right
        if _worse(hs[worst], hd[worst], hs[i], hd[i]):
            hs[i], hs[worst] = hs[worst], hs[i]
            hd[i], hd[worst] = hd[worst], hd[i]
            i = worst
        else:
            return


@njit(cache=True)
def _sift_up(hs, hd, i):
    while i > 0:
        parent = (i - 1) // 2
        if _worse(hs[i], hd[i], hs[parent], hd[parent]):
            hs[i], hs[parent] = hs[parent], hs[i]
            hd[i], hd[parent] = hd[parent], hd[i]
            i = parent
        else:
            return


@njit(cache=True)
def _offer(hs, hd, n, k, s, d):
    # push (s, d) into the bounded heap of size n <= k; returns the new size
    if n < k:
        hs[n] = s
        hd[n] = d
        _sift_up(hs, hd, n)
        return n + 1
    if _worse(hs[0], hd[0], s, d):
        hs[0] = s
        hd[0] = d
        _sift_down(hs, hd, 0, n)
    return n


@njit(cache=True)
def search_batch(q_indptr, q_terms, q_weights, indptr, doc_ids, values, n_docs, k, out_docs, out_scores, out_counts):
    """Score every query of a CSR query batch; writes the best ``k`` per query, best first.

    Posting values and query weights must be positive (a zero score means "untouched").
    Ties are broken by lower document index so results are deterministic.
    """
    scores = np.zeros(n_docs, np.float32)
    touched = np.empty(n_docs, np.int32)
    hs = np.empty(k, np.float32)
    hd = np.empty(k, np.int32)
    for qi in range(len(q_indptr) - 1):
        total = 0
        for j in range(q_indptr[qi], q_indptr[qi + 1]):
            t = q_terms[j]
            total += indptr[t + 1] - indptr[t]
        n = 0
        if total * 4 < n_docs:
            # sparse case: remember touched documents, select and reset through them
            n_touched = 0
            for j in range(q_indptr[qi], q_indptr[qi + 1]):
                t = q_terms[j]
                w = q_weights[j]
                for p in range(indptr[t], indptr[t + 1]):
                    d = doc_ids[p]
                    if scores[d] == 0.0:
                        touched[n_touched] = d
                        n_touched += 1
                    scores[d] += w * values[p]
            for i in range(n_touched):
                d = touched[i]
                s = scores[d]
                scores[d] = 0.0
                if n < k:
                    n = _offer(hs, hd, n, k, s, d)
                elif s >= hs[0]:
                    n = _offer(hs, hd, n, k, s, d)
        else:
            # dense case: a sequential scan beats bookkeeping when most documents are hit
            for j in range(q_indptr[qi], q_indptr[qi + 1]):
                t = q_terms[j]
                w = q_weights[j]
                for p in range(indptr[t], indptr[t + 1]):
                    scores[doc_ids[p]] += w * values[p]
            for d in range(n_docs):
                s = scores[d]
                # nested tests, not `a and (b or c)`: numba compiles this shape ~5x faster
                if n < k:
                    if s > 0.0:
                        n = _offer(hs, hd, n, k, s, d)
                elif s > hs[0]:
                    n = _offer(hs, hd, n, k, s, d)
            scores[:] = 0.0
        # pop the heap worst-first, filling the output from the back
        out_counts[qi] = n
        for pos in range(n - 1, -1, -1):
            out_scores[qi, pos] = hs[0]
            out_docs[qi, pos] = hd[0]
            hs[0] = hs[pos]
            hd[0] = hd[pos]
            _sift_down(hs, hd, 0, pos)
