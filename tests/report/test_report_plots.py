"""Plots: valid PNGs, and the data reach the axes (read back from the returned figure)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from jaxunlearn.evaluate import auc, roc_metrics  # noqa: E402
from jaxunlearn.report import (  # noqa: E402
    bar_chart, curve_summary, heatmap, roc_plot, tradeoff_plot)

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    with open(path, "rb") as handle:
        data = handle.read()
    return data[:8] == PNG and len(data) > 5000


def test_bar_chart_draws_the_retrain_value_as_a_line_in_every_panel(tmp_path):
    rows = [{"method": "retrain", "UA": 5.2, "RA": 100.0},
            {"method": "finetune", "UA": 1.25, "RA": 99.5},
            {"method": "salun", "UA": None, "RA": 99.0}]  # a missing value leaves a gap
    path, figure = bar_chart(rows, ["UA", "RA"], tmp_path / "bars.png", return_figure=True)
    try:
        for axis, retrain_value in zip(figure.axes, (5.2, 100.0)):
            heights = [bar.get_height() for bar in axis.patches]
            metric = axis.get_title()
            assert heights[:2] == pytest.approx([rows[0][metric], rows[1][metric]])
            horizontal = [line for line in axis.get_lines() if line.get_linestyle() == "--"]
            assert len(horizontal) == 1
            assert horizontal[0].get_ydata()[0] == pytest.approx(retrain_value)
    finally:
        plt.close(figure)
    assert is_png(path)


def test_bar_chart_reference_key_marks_every_retrain_row(tmp_path):
    rows = [{"label": "retrain [a]", "method": "retrain", "UA": 5.0},
            {"label": "retrain [b]", "method": "retrain", "UA": 6.0},
            {"label": "ga [a]", "method": "ga", "UA": 1.0}]
    _, figure = bar_chart(rows, ["UA"], tmp_path / "b.png", label_key="label",
                          reference_key="method", return_figure=True)
    dashed = [line.get_ydata()[0] for line in figure.axes[0].get_lines()]
    plt.close(figure)
    assert sorted(dashed) == pytest.approx([5.0, 6.0])


def test_roc_plot_log_axes_curves_chance_and_legend(tmp_path):
    rng = np.random.default_rng(0)
    members, nonmembers = rng.normal(1.0, 1.0, 300), rng.normal(0.0, 1.0, 500)
    scores = np.r_[members, nonmembers]
    is_member = np.r_[np.ones(300, bool), np.zeros(500, bool)]
    strong = roc_metrics(scores, is_member)
    fpr, tpr = strong["fpr"], strong["tpr"]
    weak = roc_metrics(rng.normal(size=800), is_member)
    path, figure = roc_plot({"strong": strong, "weak (arrays)": (weak["fpr"], weak["tpr"])},
                            tmp_path / "roc.png", "threshold attack", return_figure=True)
    try:
        axis = figure.axes[0]
        assert axis.get_xscale() == "log" and axis.get_yscale() == "log"
        # 1/N = 1/500 > 1e-3: the axis starts at 1e-3
        assert axis.get_xlim() == pytest.approx((1e-3, 1.0))
        lines = axis.get_lines()
        assert len(lines) == 3  # two curves and the chance diagonal
        np.testing.assert_allclose(lines[0].get_xdata(), np.maximum(fpr, 1e-3))
        np.testing.assert_allclose(lines[0].get_ydata(), np.maximum(tpr, 1e-3))
        assert list(lines[2].get_xdata()) == list(lines[2].get_ydata())  # y = x
        legend = [text.get_text() for text in axis.get_legend().get_texts()]
        assert legend[0] == (f"strong (AUC {strong['auc']:.3f}, "
                             f"TPR@1% {strong['tpr_at_fpr'][0.01]:.3f})")
        weak_auc, weak_tpr = curve_summary(weak["fpr"], weak["tpr"])
        assert legend[1] == f"weak (arrays) (AUC {weak_auc:.3f}, TPR@1% {weak_tpr:.3f})"
        assert weak_tpr == pytest.approx(weak["tpr_at_fpr"][0.01])
        assert "threshold attack" in axis.get_title()
    finally:
        plt.close(figure)
    assert is_png(path)


def test_roc_plot_axis_reaches_one_over_n_for_many_nonmembers(tmp_path):
    rng = np.random.default_rng(1)
    is_member = np.r_[np.ones(100, bool), np.zeros(20_000, bool)]
    metrics = roc_metrics(rng.normal(size=is_member.size) + is_member, is_member)
    _, figure = roc_plot({"attack": metrics}, tmp_path / "r.png", return_figure=True)
    assert figure.axes[0].get_xlim()[0] == pytest.approx(1 / 20_000)
    plt.close(figure)


def test_curve_summary_matches_the_mann_whitney_auc():
    rng = np.random.default_rng(2)
    scores, is_member = rng.normal(size=400), rng.random(400) < 0.3
    scores[is_member] += 0.7
    metrics = roc_metrics(scores, is_member)
    area, tpr_at_1 = curve_summary(metrics["fpr"], metrics["tpr"])
    assert area == pytest.approx(auc(scores, is_member))
    assert tpr_at_1 == pytest.approx(metrics["tpr_at_fpr"][0.01])


@pytest.mark.parametrize("curves, message", [
    ({}, "nothing to plot"),
    ({"a": ([0.0, 1.0], [0.0])}, "same length"),
    ({"a": ([0.5, 0.2, 1.0], [0.0, 0.5, 1.0])}, "non-decreasing"),
    ({"a": {"tpr": [0.0, 1.0]}}, "'fpr' and 'tpr'"),
    ({"a": 3.0}, "expected"),
])
def test_roc_plot_rejects_bad_curves(tmp_path, curves, message):
    with pytest.raises(ValueError, match=message):
        roc_plot(curves, tmp_path / "x.png")


def test_tradeoff_plot_groups_sorts_annotates_and_second_axis(tmp_path):
    rows = [
        {"method": "alu", "hyperparams": {"sigma": 0.1}, "TA": 90.0, "epsilon": 2.0, "UA": 5.0},
        {"method": "alu", "hyperparams": {"sigma": 0.01}, "TA": 95.0, "epsilon": 20.0, "UA": 3.0},
        {"method": "alu", "hyperparams": {"sigma": 0.05}, "TA": 93.0, "epsilon": 5.0, "UA": 4.0},
        {"method": "langevin", "hyperparams": {"sigma": 0.1}, "TA": 85.0, "epsilon": 3.0},
        {"method": "retrain", "TA": 97.0},  # no sigma: left out
    ]
    path, figure = tradeoff_plot(rows, "hyperparams.sigma", "TA", tmp_path / "t.png",
                                 group="method", y2="UA", annotate="epsilon", xlog=True,
                                 return_figure=True)
    try:
        axis, right = figure.axes
        lines = {line.get_label(): line for line in axis.get_lines()}
        assert set(lines) == {"alu TA", "langevin TA"}
        assert list(lines["alu TA"].get_xdata()) == [0.01, 0.05, 0.1]  # sorted by x
        assert list(lines["alu TA"].get_ydata()) == [95.0, 93.0, 90.0]
        assert [text.get_text() for text in axis.texts][:3] == [
            "epsilon=20", "epsilon=5", "epsilon=2"]
        assert axis.get_xscale() == "log"
        assert [line.get_label() for line in right.get_lines()] == ["alu UA"]
    finally:
        plt.close(figure)
    assert is_png(path)


@pytest.mark.parametrize("kwargs, message", [
    (dict(x="nosuch", y="TA"), "x: no row has 'nosuch'"),
    (dict(x="sigma", y="TA", annotate="eps"), "annotate: no row has 'eps'"),
    (dict(x="sigma", y="method"), "no row has numeric values"),
])
def test_tradeoff_plot_errors(tmp_path, kwargs, message):
    rows = [{"method": "a", "sigma": 1.0, "TA": 90.0}]
    with pytest.raises(ValueError, match=message):
        tradeoff_plot(rows, path=tmp_path / "t.png", **kwargs)


def test_heatmap_writes_each_cell_and_boxes_the_best_of_each_row(tmp_path):
    values = np.array([[0.5, 0.2, np.nan], [1.0, 3.0, 0.9]])
    errors = np.full_like(values, 0.05)
    path, figure = heatmap(values, ["ga", "rl"], ["none", "and", "prob"], tmp_path / "h.png",
                           errors=errors, title="gap", return_figure=True)
    try:
        axis = figure.axes[0]
        texts = [text.get_text() for text in axis.texts]
        assert texts == ["0.50\n± 0.05", "0.20\n± 0.05", "1.00\n± 0.05", "3.00\n± 0.05",
                         "0.90\n± 0.05"]  # the NaN cell stays blank
        boxes = [(patch.get_x() + 0.5, patch.get_y() + 0.5) for patch in axis.patches]
        assert boxes == [(1.0, 0.0), (2.0, 1.0)]  # row minima: column 1, then column 2
        assert [tick.get_text() for tick in axis.get_yticklabels()] == ["ga", "rl"]
    finally:
        plt.close(figure)
    assert is_png(path)
    _, figure = heatmap(values, ["ga", "rl"], ["a", "b", "c"], tmp_path / "g.png",
                        lower_is_better=False, return_figure=True)
    try:
        boxes = [(patch.get_x() + 0.5, patch.get_y() + 0.5) for patch in figure.axes[0].patches]
        assert boxes == [(0.0, 0.0), (1.0, 1.0)]  # row maxima
    finally:
        plt.close(figure)


@pytest.mark.parametrize("kwargs, message", [
    ({"values": np.zeros(3)}, "values"),
    ({"row_labels": ["a"]}, "row_labels"),
    ({"errors": np.zeros((1, 1))}, "errors"),
])
def test_heatmap_errors(tmp_path, kwargs, message):
    arguments = {"values": np.zeros((2, 2)), "row_labels": ["a", "b"],
                 "column_labels": ["x", "y"], "path": tmp_path / "h.png", **kwargs}
    with pytest.raises(ValueError, match=message):
        heatmap(**arguments)
