"""The tables' numbers per method and metric: means, standard deviations over pairs, and how many
pairs each is over (which marks a mean over fewer pairs than the rest of its column)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from defusion.benchmark.results_csv import SECONDS, Row


def mean_table(rows: list[Row]) -> tuple[list[str], list[str], dict[tuple[str, str], float]]:
    """(methods, metrics, {(method, metric): mean over images}), in first-seen order."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    methods, metrics = [], []
    for r in rows:
        if r.method not in methods:
            methods.append(r.method)
        if r.metric not in metrics:
            metrics.append(r.metric)
        if np.isfinite(r.value):
            values[(r.method, r.metric)].append(r.value)
    means = {k: float(np.mean(v)) for k, v in values.items()}
    return methods, [m for m in metrics if m != SECONDS], means


#: Degrees of freedom the standard deviation over pairs loses: 1, the sample standard deviation
#: (``numpy.std(ddof=1)``), the spread of a metric over the pairs as a sample of images; none of one pair.
STD_DDOF = 1
#: A standard deviation at most this fraction of its mean's magnitude is rounding noise of equal values
#: (``np.std`` of three 6.6s is 1.1e-15), reported as 0.
STD_NOISE = 1e-12


def std_table(rows: list[Row]) -> dict[tuple[str, str], float]:
    """{(method, metric): standard deviation over images} of the finite values (:data:`STD_DDOF`), the
    seconds per pair included; none where a method has a single value of a metric; 0 where the values
    are equal (:func:`_spread`).

    Example:
        >>> std_table([Row("a", "p1", "EN", 6.0), Row("a", "p2", "EN", 7.0), Row("b", "p1", "EN", 5.0)])
        {('a', 'EN'): 0.7071067811865476}
    """
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        if np.isfinite(r.value):
            values[(r.method, r.metric)].append(r.value)
    return {k: _spread(v) for k, v in values.items() if len(v) > STD_DDOF}


def _spread(values: list[float]) -> float:
    """The standard deviation of ``values``, exactly 0 where they are equal or it is float noise
    (:data:`STD_NOISE`), so that identical scores do not show a spread such as 1.1e-15.

    Example:
        >>> _spread([6.6, 6.6, 6.6]), _spread([6.0, 7.0])
        (0.0, 0.7071067811865476)
    """
    std = float(np.std(values, ddof=STD_DDOF))
    return 0.0 if min(values) == max(values) or std <= STD_NOISE * abs(float(np.mean(values))) else std


def value_counts(rows: list[Row]) -> dict[tuple[str, str], int]:
    """{(method, metric): how many pairs its mean is over} (finite values only)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        if r.metric != SECONDS and np.isfinite(r.value):
            counts[(r.method, r.metric)] += 1
    return dict(counts)


def images_per_method(rows: list[Row]) -> dict[str, int]:
    """How many images each method has any score on."""
    seen: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r.metric != SECONDS:
            seen[r.method].add(r.image)
    return {m: len(images) for m, images in seen.items()}


def fewer_pairs(rows: list[Row]) -> set[tuple[str, str]]:
    """The (method, metric) means over fewer pairs than the method with the most on that metric:
    marked (:data:`~defusion.benchmark.report.captions.FEWER_PAIRS_MARK`) and never called best or
    second, since a mean over other pairs is not comparable with the rest of its column."""
    counts = value_counts(rows)
    most: dict[str, int] = defaultdict(int)
    for (_, metric), n in counts.items():
        most[metric] = max(most[metric], n)
    return {(method, metric) for (method, metric), n in counts.items() if n < most[metric]}
