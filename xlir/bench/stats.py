"""Confidence intervals over queries, paired significance tests and the Holm–Bonferroni correction.

All functions take per-query values as 1-d arrays aligned by query (the same query at
the same position in every array), as :func:`xlir.eval.measures.per_query` gives them
once sorted by query id.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from xlir.errors import ParamError

__all__ = ["CI_METHODS", "TESTS", "confidence_interval", "paired_pvalue", "holm", "bootstrap_indices"]

CI_METHODS = ("bootstrap", "t")
TESTS = ("t-test", "randomization")


def bootstrap_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """``resamples`` × ``n`` query indices drawn with replacement (share them across systems: paired)."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n), dtype=np.int32)


def confidence_interval(
    values: Sequence[float] | np.ndarray,
    *,
    method: str = "bootstrap",
    level: float = 0.95,
    indices: np.ndarray | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """A ``level`` confidence interval for the mean of ``values`` (one value per query).

    ``bootstrap``: percentile interval of the mean over ``resamples`` resamples of the
    queries (``indices`` from :func:`bootstrap_indices` reuses one draw for many systems).
    ``t``: Student's t interval, mean ± t(level, n-1) · sd / √n. One query or none gives
    ``(nan, nan)``. Raises :class:`ParamError` for an unknown method or level.
    """
    if method not in CI_METHODS:
        raise ParamError(f"unknown confidence interval method {method!r}; available: {', '.join(CI_METHODS)}")
    if not 0 < level < 1:
        raise ParamError(f"confidence level must be in (0, 1), got {level}")
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if n < 2:
        return (math.nan, math.nan)
    alpha = 1.0 - level
    if method == "t":
        from scipy import stats

        sd = float(x.std(ddof=1))
        half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * sd / math.sqrt(n)
        mean = float(x.mean())
        return (mean - half, mean + half)
    if indices is None:
        indices = bootstrap_indices(n, resamples, seed)
    means = x[indices].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return (float(lo), float(hi))


def paired_pvalue(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    test: str = "t-test",
    permutations: int = 10_000,
    seed: int = 0,
) -> float:
    """Two-sided p-value of the paired difference ``a - b`` being zero on average.

    ``t-test``: scipy's paired t-test (``ttest_rel``). ``randomization``: the paired
    randomization (sign-flip) test with ``permutations`` random flips, p = (hits + 1) /
    (permutations + 1). Identical systems (every difference 0) give p = 1.
    """
    if test not in TESTS:
        raise ParamError(f"unknown significance test {test!r}; available: {', '.join(TESTS)}")
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"paired values differ in length: {len(x)} and {len(y)}")
    d = x - y
    if len(d) < 2 or not np.any(d):
        return 1.0
    if test == "t-test":
        from scipy import stats

        p = float(stats.ttest_rel(x, y).pvalue)
        return 1.0 if math.isnan(p) else p
    observed = abs(d.mean())
    rng = np.random.default_rng(seed)
    hits = 0
    block = max(1, 4_000_000 // len(d))  # bound the sign matrix to a few MB
    done = 0
    while done < permutations:
        m = min(block, permutations - done)
        signs = rng.integers(0, 2, size=(m, len(d)), dtype=np.int8) * 2 - 1
        hits += int(np.count_nonzero(np.abs(signs @ d) / len(d) >= observed - 1e-12))
        done += m
    return (hits + 1) / (permutations + 1)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1), in input order.

    A hypothesis is rejected at family-wise level α when its adjusted p-value is < α.
    NaN p-values stay NaN and do not count towards the family size.
    """
    p = [float(x) for x in pvalues]
    valid = [i for i, x in enumerate(p) if not math.isnan(x)]
    m = len(valid)
    out = [math.nan] * len(p)
    running = 0.0
    for rank, i in enumerate(sorted(valid, key=lambda i: p[i])):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out
