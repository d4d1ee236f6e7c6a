"""Numba loop of the PLAID search (imported only when searching): MaxSim over centroid scores.

Candidates hold thousands of documents of ~100 tokens each; gathering a (query tokens x
candidate tokens) score matrix in numpy costs hundreds of MB per query, while this loop
reads each candidate token's centroid id once and skips pruned centroids.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def centroid_maxsim(st, keep, codes, offsets, pids):
    """Approximate MaxSim of each document in ``pids``: for every query token, the best score
    of the centroids of the document's tokens, skipping centroids with ``keep`` false (a
    query token no kept centroid reaches contributes 0). ``st``: (centroids, query tokens)."""
    nq = st.shape[1]
    out = np.empty(len(pids), np.float32)
    best = np.empty(nq, np.float32)
    for i in range(len(pids)):
        d = pids[i]
        for j in range(nq):
            best[j] = -np.inf
        for t in range(offsets[d], offsets[d + 1]):
            c = codes[t]
            if keep[c]:
                for j in range(nq):
                    v = st[c, j]
                    if v > best[j]:
                        best[j] = v
        total = 0.0
        for j in range(nq):
            if best[j] > -np.inf:
                total += best[j]
        out[i] = total
    return out
