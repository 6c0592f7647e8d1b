"""Rows of small whole-number codes read as the digits of one integer.

Grouping millions of rows on several columns (pandas' group-by, np.unique over rows) sorts
the rows themselves; sorting one int64 a row gives the same distinct rows in the same order,
at a fraction of the time and memory. The rate-ratio model's cells and the agreement
bootstrap's rating patterns are both found this way.
"""

from __future__ import annotations

import math

import numpy as np


def distinct_rows(columns: list[np.ndarray], sizes: list[int]
                  ) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the code columns in sorted order (np.unique's over rows), as one
    array a column, and each row's position among them. Column j's codes are 0..sizes[j]-1."""
    if math.prod(sizes) >= 2**63:
        raise ValueError("too many combinations of codes to number in 64 bits")
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for codes, size in zip(columns, sizes, strict=True):
        key = key * size + codes
    keys, inverse = np.unique(key, return_inverse=True)
    digits = []
    for size in reversed(sizes):
        keys, digit = np.divmod(keys, size)
        digits.append(digit)
    return digits[::-1], inverse
