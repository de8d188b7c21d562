"""Small statistics for the harness: percentiles and ratios, with no dependencies."""

import math


def percentile(values, fraction):
    """The nearest-rank percentile (`fraction` in 0..1) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(values, digits=1):
    """p50, p99 and max of `values`, rounded; Nones when there are none."""
    ordered = sorted(values)
    return {"p50": _round(percentile(ordered, 0.50), digits),
            "p99": _round(percentile(ordered, 0.99), digits),
            "max": _round(ordered[-1] if ordered else None, digits),
            "samples": len(ordered)}


def ratio(ours, baseline, digits=2):
    """ours / baseline, or None when either is missing or the baseline is zero."""
    if ours is None or baseline in (None, 0):
        return None
    return round(ours / baseline, digits)


def _round(value, digits):
    """Round a number, passing None through."""
    return None if value is None else round(value, digits)
