"""metric_grid: one panel per metric in a grid, the models named down every panel, each bar the
row's value, and the retrained model's value as a dashed vertical line."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from jaxunlearn.report import metric_grid

ROWS = [{"method": "original", "UA": 0.0, "RA": 100.0, "TA": 97.5, "MIA": 0.0, "gap": 1.7},
        {"method": "retrain", "UA": 1.4, "RA": 100.0, "TA": 96.9, "MIA": 4.9, "gap": 0.0},
        {"method": "salun", "UA": 2.1, "RA": 99.3, "TA": 95.8, "MIA": float("nan"), "gap": 0.8}]


def test_grid_of_labelled_panels_with_the_reference_line(tmp_path):
    metrics = ["UA", "RA", "TA", "MIA", "gap"]
    path, figure = metric_grid(ROWS, metrics, tmp_path / "grid.png", columns=3,
                               descriptions={"UA": "error on the forget set"},
                               return_figure=True)
    try:
        figure.canvas.draw()
        axes = figure.axes
        assert len(axes) == 6 and not axes[5].get_visible()  # 2 x 3 grid, one slot empty
        assert axes[0].get_subplotspec().get_geometry()[:2] == (2, 3)
        for axis, metric in zip(axes, metrics):
            assert axis.get_title().split("\n")[0] == metric
            # the models down the side (named in the first column), the first row on top
            ticks = sorted(zip(axis.get_yticks(), [t.get_text() for t in axis.get_yticklabels()
                                                   if t.get_visible()]))
            if axis.get_subplotspec().colspan.start == 0:
                assert [label for _, label in ticks][::-1] == ["original", "retrain", "salun"]
            widths = [patch.get_width() for patch in axis.patches]
            expected = [row[metric] if np.isfinite(row[metric]) else 0.0 for row in ROWS]
            assert widths == pytest.approx(expected)
            dashed = [line for line in axis.lines if line.get_linestyle() == "--"]
            assert len(dashed) == 1 and dashed[0].get_xdata()[0] == ROWS[1][metric]
        assert axes[0].get_title() == "UA\nerror on the forget set"
    finally:
        plt.close(figure)
    assert open(path, "rb").read(4) == b"\x89PNG"


@pytest.mark.parametrize("rows, metrics, message", [
    ([], ["UA"], "rows"), (ROWS, [], "metrics")])
def test_bad_input_names_the_argument(tmp_path, rows, metrics, message):
    with pytest.raises(ValueError, match=message):
        metric_grid(rows, metrics, tmp_path / "never.png")
    assert not (tmp_path / "never.png").exists()
