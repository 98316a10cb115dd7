"""tune.py --extend: a learning rate chosen at the edge of its grid gets one more point beyond."""

import importlib.util
import math
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("tune", ROOT / "experiments/tune.py")
tune = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tune)


def _rows(method, gaps):
    grid = {f"{method} lr={rate:g} ep={epochs}": (method, {"learning_rate": rate,
                                                           "epochs": epochs})
            for rate, epochs in gaps}
    rows = [{"method": f"{method} lr={rate:g} ep={epochs}", "gap": gap}
            for (rate, epochs), gap in gaps.items()]
    return rows, grid


def test_the_next_point_continues_the_grid_past_the_edge_where_the_best_lies():
    rates = [0.01, 0.03, 0.1]
    top, grid = _rows("ft", {(0.01, 5): 4.0, (0.03, 5): 3.0, (0.1, 5): 2.0, (0.1, 2): 9.0})
    assert math.isclose(tune._edge_point("ft", rates, top, grid), 0.333)
    bottom, grid = _rows("ft", {(0.01, 5): 1.0, (0.03, 5): 3.0, (0.1, 5): 2.0})
    assert math.isclose(tune._edge_point("ft", rates, bottom, grid), 0.00333)
    inside, grid = _rows("ft", {(0.01, 5): 4.0, (0.03, 5): 1.0, (0.1, 5): 2.0})
    assert tune._edge_point("ft", rates, inside, grid) is None
    # the point past the edge diverged: the best (0.1) is now inside the finite points' range
    diverged, grid = _rows("ft", {(0.03, 5): 3.0, (0.1, 5): 2.0, (0.333, 5): float("nan")})
    assert tune._edge_point("ft", [0.03, 0.1, 0.333], diverged, grid) is None
    # another method's rows are not this method's evidence
    other, grid = _rows("ga", {(0.01, 5): 1.0, (0.1, 5): 2.0})
    assert tune._edge_point("ft", rates, other, grid) is None
