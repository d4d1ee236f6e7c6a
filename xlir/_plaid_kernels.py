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


@njit(cache=True)
def decompress_into(table, centroids, codes, packed, norms, gain, out):
    """Token vectors from packed residuals in one pass per token (numpy's version builds three
    temporaries of tokens x dim): bucket values from ``table`` (byte position, byte value,
    values per byte), made unit length and scaled by ``norms`` when ``gain``, plus the
    centroid, then L2-normalized into ``out``."""
    nbytes, _, per = table.shape
    dim = nbytes * per
    for t in range(len(codes)):
        row = out[t]
        ss = 0.0
        for b in range(nbytes):
            v = packed[t, b]
            for j in range(per):
                x = table[b, v, j]
                row[b * per + j] = x
                ss += x * x
        scale = 1.0
        if gain:
            scale = norms[t] / max(np.sqrt(ss), 1e-12)
        c = codes[t]
        ss = 0.0
        for i in range(dim):
            x = row[i] * scale + centroids[c, i]
            row[i] = x
            ss += x * x
        inv = 1.0 / max(np.sqrt(ss), 1e-12)
        for i in range(dim):
            row[i] *= inv
