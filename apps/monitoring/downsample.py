"""Largest-Triangle-Three-Buckets: thin a series to n points, keeping its visual shape.

Unlike averaging, LTTB keeps the peaks and dips an operator is looking for.
(Steinarsson 2013; written here from the description.)
"""

from __future__ import annotations

import numpy as np


def lttb(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    size = len(x)
    if n >= size or n < 3:
        return x, y
    keep = np.empty(n, dtype=np.int64)
    keep[0], keep[-1] = 0, size - 1
    # n - 2 buckets over the interior points.
    edges = np.linspace(1, size - 1, n - 1).astype(np.int64)
    previous = 0
    for i in range(n - 2):
        lo, hi = edges[i], max(edges[i + 1], edges[i] + 1)
        if i + 2 < n - 1:
            nlo, nhi = edges[i + 1], max(edges[i + 2], edges[i + 1] + 1)
            avg_x, avg_y = x[nlo:nhi].mean(), y[nlo:nhi].mean()
        else:
            avg_x, avg_y = x[-1], y[-1]
        px, py = x[previous], y[previous]
        area = np.abs((px - avg_x) * (y[lo:hi] - py) - (px - x[lo:hi]) * (avg_y - py))
        previous = lo + int(np.argmax(area))
        keep[i + 1] = previous
    return x[keep], y[keep]
