"""Independent float64 brute force of the Langevin/ALU certificate (no jaxunlearn.certify).

Written from alu.md §1.2 and the official ``epsilon_expression`` only: a dense log-spaced grid of
orders (no refinement) and a linear scan over K. Grid minima over-estimate the true minimum by
a second-order amount (~1e-7 relative at 40,001 points), far below the K-to-K change of ε.
"""

from __future__ import annotations

import numpy as np

GRID = np.geomspace(2.0, 1e4, 40_001)
SCAN_GRID = np.geomspace(2.0, 1e4, 8_001)  # coarser for the K scan: ~1e-6 relative in ε


def renyi_grid(*, n_total, num_deleted, strong_convexity, step_size, sigma, steps, clip_norm=1.0,
               grid=GRID):
    """exp(−ηmK/α)·4αS²M²/(mσ²n²) on the grid; ``steps`` may be a column of several K."""
    steps = np.asarray(steps, dtype=np.float64)[..., None]
    eps0 = 4.0 * grid * num_deleted**2 * clip_norm**2 / (
        strong_convexity * sigma**2 * n_total**2)
    return np.exp(-step_size * strong_convexity * steps / grid) * eps0


def epsilon_dp(*, delta, grid=GRID, **kwargs):
    """(ε, α) = grid minimum of ε_RU(α) + log(1/δ)/(α − 1) (Mironov), for one K."""
    values = renyi_grid(grid=grid, **kwargs) + np.log(1.0 / delta) / (grid - 1.0)
    best = int(np.argmin(values))
    return float(values[best]), float(grid[best])


def steps_linear_scan(target, *, delta, k_max=20_000, chunk=256, grid=SCAN_GRID, **kwargs):
    """Smallest K in 0..k_max with grid-ε(K) ≤ target, by scanning K upwards in chunks."""
    floor = np.log(1.0 / delta) / (grid - 1.0)
    for start in range(0, k_max + 1, chunk):
        ks = np.arange(start, min(start + chunk, k_max + 1))
        eps = (renyi_grid(steps=ks, grid=grid, **kwargs) + floor).min(axis=1)
        hits = np.nonzero(eps <= target)[0]
        if hits.size:
            return int(ks[hits[0]])
    raise AssertionError(f"no K <= {k_max} reaches {target}")
