"""The ALU experiment scripts run end to end in their ``--small`` setting and write their tables
and plots (slow tier: ``python -m pytest -m slow``). Their numbers are checked only where the
claim is structural: the certified slope, and that the audit stays below the certificate."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

SCRIPTS = {
    "certified": ("certified", ["certified_vs_npub.png", "steps_vs_npub.png"]),
    "utility": ("utility", ["utility_digits.png"]),
    "mass_deletion": ("mass_deletion", ["mass_deletion.png", "mass_deletion_steps.json"]),
    "shift": ("shift", ["shift.png"]),
    "audit": ("audit", ["audit.png"]),
    "cnn": ("cnn", ["cnn.png"]),
}


def _run(script, out):
    return subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "alu" / f"{script}.py"), "--small", "--out",
         str(out)], capture_output=True, text=True, timeout=300,
        env=dict(os.environ, JAX_PLATFORMS="cpu"))


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_small_setting_writes_tables_and_plots(script, tmp_path):
    result = _run(script, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    table, files = SCRIPTS[script]
    for name in [f"{table}.md", f"{table}.csv", f"{table}.json", *files]:
        assert (tmp_path / name).is_file(), name
    payload = json.loads((tmp_path / f"{table}.json").read_text())
    assert payload["rows"] and payload["metadata"]["small"] is True
    assert payload["metadata"]["environment"]["packages"]["jax"]
    if script == "certified":
        slopes = payload["metadata"]["settings"]["slopes_for_n_public_ge_10_n_private"]
        assert -2.05 < slopes["eps0"] < -1.8  # → −2 as n_pub/n_priv → ∞
        steps = [row["steps_for_target"] for row in payload["rows"]]
        assert steps == sorted(steps, reverse=True) and steps[0] > steps[-1]
    if script == "audit":
        for row in payload["rows"]:
            assert not row["audit_lower"] > row["certified_renyi"]
