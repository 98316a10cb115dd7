"""The summary's ALU rows from retrain_cost.py and fashion.py: numbers and verdicts follow the
tables they read (synthetic tables whose answers are worked out here by hand)."""

import importlib.util
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("summary_alu", ROOT / "experiments/summary.py")
summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(summary)


def _write(path, rows, settings=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"rows": rows, "metadata": {"settings": settings or {}}}))


def _row(text, claim):
    return next(line for line in text.splitlines() if claim in line)


def test_retraining_row_reads_ratios_crossovers_and_the_budget(tmp_path):
    cost = [{"fraction": f, "public_ratio": p, "k_over_t": k}
            for f, p, k in ((0.1, 0, 0.8), (0.1, 1, 0.7), (0.1, 4, 0.6), (0.1, 100, 0.1),
                            (0.5, 0, 1.0), (0.5, 1, 0.9), (0.5, 4, 0.75), (0.5, 100, 0.3),
                            (0.9, 0, 1.1), (0.9, 1, 0.99), (0.9, 4, 0.8), (0.9, 100, 0.4))]
    crossover = [{"fraction": 0.1, "k_at_no_public": 80, "retrain_steps": 100,
                  "first_public_with_k_below_t": 0},
                 {"fraction": 0.5, "k_at_no_public": 100, "retrain_steps": 100,
                  "first_public_with_k_below_t": 16},
                 {"fraction": 0.9, "k_at_no_public": 110, "retrain_steps": 100,
                  "first_public_with_k_below_t": None}]
    settings = {"n_private": 10_000, "sigma": 0.05, "strong_convexity": 0.05, "epsilon": 1.0,
                "retrain_steps": 100,
                "digits_budget": {"epsilon_certified": 6.4751, "steps_for_epsilon_1": 2823}}
    _write(tmp_path / "alu/retrain_cost.json", cost, settings)
    _write(tmp_path / "alu/retrain_crossover.json", crossover, settings)
    row = _row(summary.summary_markdown(str(tmp_path)), "cheaper than retraining")
    assert "10 % deleted 0.80 / 0.70 / 0.60 / 0.10; 50 % deleted 1.00 / 0.90 / 0.75 / 0.30" in row
    assert "10 %: 0, 50 %: 16, 90 %: never up to 100 n_priv" in row
    assert "K/T up to 1.10" in row and "certifies only ε = 6.48" in row and "2,823" in row
    # K/T range over 10–50 % deleted and 0 < n_pub ≤ 4 n_priv: 0.60 … 0.90 (0.9 excluded)
    assert "without public data up to 10 % deleted, K = T at 50 %" in row
    assert "K/T 0.60–0.90 for 10–50 % deleted" in row
    # K < T at n_pub = n_priv for 10 % and 50 % (0.7, 0.9), not for 90 % (0.99 < 1 too): all
    assert row.rstrip(" |").endswith("| reproduced")


def test_mass_shift_and_audit_rows(tmp_path):
    mass = [
        {"method": "ALU", "n_public": 40_000, "fraction": 0.3, "sigma": 0.05, "k_over_t": 0.7,
         "acc_unlearned": 0.86, "acc_retrained": 0.865},
        {"method": "ALU", "n_public": 10_000, "fraction": 0.3, "sigma": 0.05, "k_over_t": 0.8,
         "acc_unlearned": 0.85, "acc_retrained": 0.871},
        {"method": "symmetric (n_pub = 0)", "n_public": 0, "fraction": 0.3, "sigma": 0.05,
         "k_over_t": 0.93, "acc_unlearned": 0.868, "acc_retrained": 0.87},
        {"method": "symmetric, ALU's K (n_pub = 40000)", "n_public": 0, "fraction": 0.3,
         "sigma": 0.2, "k_over_t": 0.7, "acc_unlearned": 0.80, "acc_retrained": 0.85}]
    _write(tmp_path / "alu/fashion_mass.json", mass, {"n_private": 10_000, "epsilon": 1.0,
                                                      "chains": 32})
    shift = [{"shift": "none", "level": 0.0, "acc_unlearned": 0.86, "n_public": 10_000,
              "deleted": 3_000, "acc_symmetric_same_sigma": 0.87, "symmetric_steps": 852,
              "acc_symmetric_same_steps": 0.83},
             {"shift": "corruption", "level": 2.0, "acc_unlearned": 0.85,
              "acc_symmetric_same_steps": 0.83},
             {"shift": "corruption", "level": 8.0, "acc_unlearned": 0.82,
              "acc_symmetric_same_steps": 0.83},
             {"shift": "class_skew", "level": 4.0, "acc_unlearned": 0.84,
              "acc_symmetric_same_steps": 0.83}]
    _write(tmp_path / "alu/fashion_shift.json", shift, {"n_private": 10_000})
    audit = [{"n_public": 0, "deleted": 1_000, "chains": 512, "steps": 0, "certified_steps": 707,
              "alpha": 2.0, "certified_renyi": 400.0, "audit_estimate": 2.0, "audit_lower": 1.0,
              "ulira_auc": 0.7, "gaussian_plug_in": 3.0},
             {"n_public": 0, "deleted": 1_000, "chains": 512, "steps": 707,
              "certified_steps": 707, "alpha": 8.0, "certified_renyi": 0.5,
              "audit_estimate": 0.01, "audit_lower": -1.0, "ulira_auc": 0.5,
              "gaussian_plug_in": 0.0}]
    _write(tmp_path / "alu/fashion_audit.json", audit, {"n_private": 10_000})
    text = summary.summary_markdown(str(tmp_path))
    row = _row(text, "mass unlearning")
    assert "30 %: ALU 0.860 (K/T 0.70) vs retrained 0.865" in row  # the largest public set
    assert "symmetric same σ 0.868 at K/T 0.93, at ALU's K σ 0.200 → 0.800" in row
    assert "Utility within 0.021 of retraining" in row and "loses up to 0.068" in row
    # n_pub = 40,000 row: |0.86 − 0.865| ≤ 0.01 and symmetric 0.80 < 0.86 − 0.01
    assert row.rstrip(" |").endswith("| reproduced")
    assert "needs K/T up to 0.93" in row  # the symmetric row at the same σ
    assert "error of a mean ≈ 0.000" in row  # no spread given
    row = _row(text, "distribution shift")
    assert "corruption 2 → 0.850, 8 → 0.820" in row and "class skew 4 → 0.840" in row
    assert "equal steps: corruption from 8, class skew never" in row
    assert row.rstrip(" |").endswith("| mixed")  # 3 of 4 levels at or above 0.83
    row = _row(text, "Fashion-MNIST settings")
    assert "estimate 2.000 (lower 1.00; Gaussian plug-in 3) vs certified 400 at α = 2" in row
    assert "1,000 random rows deleted" in row
    assert "audit / certificate at most 0.02 over 2 settings" in row
    audit[1]["audit_lower"] = 0.6
    _write(tmp_path / "alu/fashion_audit.json", audit, {"n_private": 10_000})
    exceeded = _row(summary.summary_markdown(str(tmp_path)), "Fashion-MNIST settings")
    assert "AUDIT EXCEEDS" in exceeded and exceeded.rstrip(" |").endswith("| not reproduced")
    _write(tmp_path / "alu/fashion_audit_hardest.json", audit, {"n_private": 10_000})
    assert "1,000 worst-fit rows deleted" in summary.summary_markdown(str(tmp_path))
