"""retrain_cost.py and fashion.py (ALU against retraining on equal terms) in their ``--small``
settings, checked against the float64 brute force of tests/certify/certify_reference.py and the
closed-form order of K and T (slow tier)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from certify.certify_reference import epsilon_dp, steps_linear_scan

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(script, out, *extra):
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "alu" / f"{script}.py"), "--small", "--out",
         str(out), *extra], capture_output=True, text=True, timeout=600,
        env=dict(os.environ, JAX_PLATFORMS="cpu"))
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _rows(path):
    return json.loads(path.read_text())["rows"]


def test_retrain_cost_against_the_brute_force(tmp_path):
    _run("retrain_cost", tmp_path)
    for name in ("retrain_cost.json", "retrain_crossover.json", "retrain_robustness.json",
                 "retrain_cost.png"):
        assert (tmp_path / name).is_file(), name
    settings = json.loads((tmp_path / "retrain_cost.json").read_text())["metadata"]["settings"]
    n_private, m, sigma = settings["n_private"], settings["strong_convexity"], settings["sigma"]
    common = dict(delta=1 / n_private, strong_convexity=m, step_size=1 / (0.25 + m), sigma=sigma)
    T = steps_linear_scan(1.0, n_total=2, num_deleted=1, **common)  # Δ_0 = M
    for row in _rows(tmp_path / "retrain_cost.json"):
        assert row["retrain_steps"] == T
        n_total = n_private + row["n_public"]
        assert row["unlearn_steps"] == steps_linear_scan(1.0, n_total=n_total,
                                                         num_deleted=row["deleted"], **common)
        if 2 * row["deleted"] <= n_total:
            assert row["unlearn_steps"] <= T
        else:
            assert row["unlearn_steps"] >= T
    for row in _rows(tmp_path / "retrain_crossover.json"):
        first = row["first_public_with_k_below_t"]
        assert first >= row["closed_form_public_for_k_le_t"]
        assert steps_linear_scan(1.0, n_total=n_private + first, num_deleted=row["deleted"],
                                 **common) < T
        if first > 0:
            assert steps_linear_scan(1.0, n_total=n_private + first - 1,
                                     num_deleted=row["deleted"], **common) >= T


def test_fashion_small_runs_every_part_and_respects_the_certificate(tmp_path):
    pytest.importorskip("matplotlib")
    from jaxunlearn.data import DEFAULT_FASHION_MNIST_DIR

    if not os.path.isdir(DEFAULT_FASHION_MNIST_DIR):
        pytest.skip("Fashion-MNIST is not installed")
    _run("fashion", tmp_path)
    for part in ("mass", "shift", "audit"):
        for ext in ("md", "csv", "json", "png"):
            assert (tmp_path / f"fashion_{part}.{ext}").is_file(), (part, ext)
    payload = json.loads((tmp_path / "fashion_mass.json").read_text())
    settings = payload["metadata"]["settings"]
    n_private, m = settings["n_private"], settings["strong_convexity"]
    common = dict(delta=1 / n_private, strong_convexity=m, step_size=1 / (0.25 + m))
    for row in payload["rows"]:
        assert 0.5 < row["acc_unlearned"] <= 1 and 0.5 < row["acc_retrained"] <= 1
        assert abs(row["acc_unlearned"] - row["acc_retrained"]) < 0.05
        # the certificate of the steps that ran, recomputed by brute force, meets ε = 1
        eps, _ = epsilon_dp(n_total=n_private + row["n_public"], num_deleted=row["deleted"],
                            steps=row["unlearn_steps"], sigma=row["sigma"], **common)
        assert eps <= 1.0 + 1e-6
        if row["method"].startswith("symmetric, ALU"):
            assert row["sigma"] > settings["sigma"]  # Δ without public data is larger
    for row in _rows(tmp_path / "fashion_audit.json"):
        assert not row["audit_lower"] > row["certified_renyi"]
    again = tmp_path / "again"
    _run("fashion", again, "--part", "mass")
    assert _rows(again / "fashion_mass.json") == payload["rows"]  # same seed, same numbers
