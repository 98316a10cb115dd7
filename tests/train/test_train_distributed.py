"""Multi-process runs on one machine, joined with ``jax.distributed`` on a loopback coordinator.

Each process owns one CPU device (``--xla_force_host_platform_device_count=1``) and the processes
all-reduce over gloo CPU collectives, as hosts of a cluster would over the network:

- two processes train, unlearn and train 8 shadow models (the model axis split over the
  processes) and match one process on two devices (to float tolerance; in practice exactly) and
  on one device (to the tolerance of a different reduction order);
- killed mid-training (SIGKILL, all processes) and restarted, they resume from the last
  checkpoint and end where an uninterrupted run ends;
- four processes match one process on four devices;
- a process whose peer never starts exits with a clear error within a bounded time.

Every subprocess is started with ``Popen`` and waited for with a deadline, then killed, so a
failure never hangs the suite. The script the processes run is ``distributed_script.py``.
"""

import contextlib
import io
import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from jaxunlearn import distributed

SCRIPT = pathlib.Path(__file__).with_name("distributed_script.py")
DEADLINE_SECONDS = 240  # per launch; the runs take seconds when the machine is idle


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(devices: int = 1, **distributed_settings: str) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JAXUNLEARN_", "JAX_COORDINATOR", "JAX_NUM_PROCESSES",
                                  "JAX_PROCESS_ID", "SLURM_", "OMPI_"))}
    env.update(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               JAX_PLATFORMS="cpu", JAXUNLEARN_NO_PROGRESS="1", PYTHONUNBUFFERED="1")
    env.update(distributed_settings)
    return env


class _Launch:
    """``num_processes`` copies of the script (or of ``python -m <module>``) joined on a fresh
    loopback port, or one process alone when ``num_processes`` is 0; output in log files (pipes
    could fill up and block)."""

    def __init__(self, directory: pathlib.Path, name: str, args: list[str], *,
                 num_processes: int = 0, devices: int = 1, timeout: int = 60,
                 process_ids=None, port: int | None = None, module: str | None = None):
        self.name = name
        self.started = time.monotonic()
        port = port or _free_port()
        ids = list(process_ids if process_ids is not None else range(max(num_processes, 1)))
        self.logs = [directory / f"{name}{i}.log" for i in ids]
        self.processes = []
        for i, log in zip(ids, self.logs):
            settings = {} if not num_processes else {
                "JAXUNLEARN_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
                "JAXUNLEARN_NUM_PROCESSES": str(num_processes),
                "JAXUNLEARN_PROCESS_ID": str(i),
                "JAXUNLEARN_INITIALIZATION_TIMEOUT": str(timeout),
                "JAXUNLEARN_HEARTBEAT_TIMEOUT": "20",
            }
            with open(log, "w") as handle:
                program = ["-m", module] if module else [str(SCRIPT)]
                self.processes.append(subprocess.Popen(
                    [sys.executable, *program, *args], env=_environment(devices, **settings),
                    stdout=handle, stderr=subprocess.STDOUT))

    def texts(self) -> list[str]:
        return [log.read_text() for log in self.logs]

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)

    def _fail(self, why: str):
        self.kill()
        tails = "\n".join(f"--- {log.name}\n{text[-3000:]}"
                          for log, text in zip(self.logs, self.texts()))
        pytest.fail(f"{self.name}: {why}\n{tails}")

    def wait(self, deadline: float = DEADLINE_SECONDS) -> list[dict]:
        """Wait for every process to exit 0; return their ``RESULT`` records (if any)."""
        for process in self.processes:
            remaining = self.started + deadline - time.monotonic()
            try:
                process.wait(timeout=max(remaining, 0.1))
            except subprocess.TimeoutExpired:
                self._fail(f"did not finish within {deadline} s")
        if any(process.returncode for process in self.processes):
            self._fail(f"exit codes {[p.returncode for p in self.processes]}")
        results = []
        for text in self.texts():
            lines = [line for line in text.splitlines() if line.startswith("RESULT ")]
            results.append(json.loads(lines[-1][len("RESULT "):]) if lines else None)
        return results

    def wait_for(self, marker: str, deadline: float = DEADLINE_SECONDS) -> None:
        """Wait until every process has printed ``marker`` (they keep running)."""
        while not all(marker in text for text in self.texts()):
            if any(process.poll() is not None for process in self.processes):
                self._fail(f"a process exited before printing {marker!r}")
            if time.monotonic() > self.started + deadline:
                self._fail(f"{marker!r} not printed within {deadline} s")
            time.sleep(0.2)


def _arrays(directory: pathlib.Path, process: int = 0) -> dict:
    with np.load(directory / f"process{process}.npz") as data:
        return {key: data[key] for key in data.files}


def _max_difference(first: dict, second: dict, prefix: str = "") -> float:
    keys = sorted(key for key in first if key.startswith(prefix))
    assert keys and keys == sorted(key for key in second if key.startswith(prefix))
    return max(float(np.max(np.abs(first[key] - second[key]))) for key in keys)


@pytest.mark.slow
def test_two_processes_match_one_process_and_resume_after_a_crash(tmp_path):
    everything = "train,unlearn,many,variables"
    workdir, reference_workdir = tmp_path / "work", tmp_path / "reference_work"
    # The single-process reference on two devices runs beside the first multi-process launch.
    reference = _Launch(tmp_path, "reference", ["--out", str(tmp_path / "reference"),
                                                "--workdir", str(reference_workdir),
                                                "--tasks", everything], devices=2)
    crashed = _Launch(tmp_path, "crashed", ["--out", str(tmp_path / "crashed"),
                                            "--workdir", str(workdir), "--tasks", everything,
                                            "--stop-after", "13"], num_processes=2)
    try:
        crashed.wait_for("STOPPED at step 13")
    finally:
        crashed.kill()  # SIGKILL both processes mid-run: no cleanup, no final checkpoint
    assert all(process.returncode == -9 for process in crashed.processes)
    saved = sorted(int(p.name) for p in (workdir / "train" / "checkpoints").iterdir()
                   if p.name.isdigit())
    assert saved and max(saved) == 10, saved

    single_device = _Launch(tmp_path, "one_device", ["--out", str(tmp_path / "one_device"),
                                                     "--tasks", "train"], devices=1)
    resumed = _Launch(tmp_path, "resumed", ["--out", str(tmp_path / "resumed"),
                                            "--workdir", str(workdir), "--tasks", everything],
                      num_processes=2)
    results = resumed.wait()
    (reference_result,) = reference.wait()
    single_device.wait()

    for index, result in enumerate(results):
        assert (result["process"], result["processes"], result["devices"]) == (index, 2, 2)
        assert result["local_devices"] == 1 and result["resumed_from"] == 10
        assert "'data': 2" in result["params_sharding"]
        assert result["many_local_models"] == 4  # 8 shadow models split over the 2 processes
        assert result["history"][-1] == results[0]["history"][-1]
    assert reference_result["resumed_from"] is None and reference_result["many_local_models"] == 8

    per_process = [_arrays(tmp_path / "resumed", index) for index in range(2)]
    assert _max_difference(per_process[0], per_process[1]) == 0.0  # one replicated state
    multi = per_process[0]
    one_process = _arrays(tmp_path / "reference")
    differences = {prefix: _max_difference(multi, one_process, prefix)
                   for prefix in ("train", "unlearn", "many", "loaded")}
    print(f"max |2 processes (resumed) - 1 process on 2 devices|: {differences}")
    for prefix, difference in differences.items():
        assert difference <= 1e-6, (prefix, difference)
    np.testing.assert_array_equal(multi["loaded['params']['Dense_0']['kernel']"],
                                  multi["train['params']['Dense_0']['kernel']"])

    one_device = _arrays(tmp_path / "one_device")
    print(f"max |2 processes - 1 device| (train): {_max_difference(multi, one_device, 'train')}")
    for key in one_device:
        np.testing.assert_allclose(multi[key], one_device[key], rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_four_processes_match_one_process_on_four_devices(tmp_path):
    args = ["--tasks", "train"]
    multi = _Launch(tmp_path, "four", ["--out", str(tmp_path / "four"), "--workdir",
                                       str(tmp_path / "work"), *args], num_processes=4)
    reference = _Launch(tmp_path, "reference", ["--out", str(tmp_path / "reference"), *args],
                        devices=4)
    results = multi.wait()
    reference.wait()
    assert [r["process"] for r in results] == [0, 1, 2, 3]
    assert all(r["devices"] == 4 and r["local_devices"] == 1 for r in results)
    arrays = [_arrays(tmp_path / "four", index) for index in range(4)]
    for other in arrays[1:]:
        assert _max_difference(arrays[0], other) == 0.0
    expected = _arrays(tmp_path / "reference")
    print(f"max |4 processes - 1 process on 4 devices|: {_max_difference(arrays[0], expected)}")
    for key in expected:
        np.testing.assert_allclose(arrays[0][key], expected[key], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_a_missing_process_gives_a_clear_error_in_bounded_time(tmp_path):
    # Process 0 waits for a process 1 that never starts; a process 1 finds no coordinator.
    args = ["--out", str(tmp_path / "out"), "--tasks", "train"]
    ports = [_free_port(), _free_port()]
    alone = [_Launch(tmp_path, f"alone{i}_", args, num_processes=2, timeout=5,
                     process_ids=[i], port=ports[i]) for i in (0, 1)]
    try:
        for launch in alone:
            launch.processes[0].wait(timeout=max(launch.started + 30 - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        pytest.fail("a process without its peer still ran after 30 s")
    finally:
        for launch in alone:
            launch.kill()
    for i, launch in enumerate(alone):
        seconds = time.monotonic() - launch.started
        (text,) = launch.texts()
        assert launch.processes[0].returncode == distributed.TIMEOUT_EXIT_CODE, text[-2000:]
        assert (f"process {i} of 2 could not join the coordinator at 127.0.0.1:{ports[i]} "
                "within 5 s") in text, text[-2000:]
        assert "not every process started" in text
        assert seconds < 30
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_command_line_trains_on_two_processes_and_prints_once(tmp_path):
    root = pathlib.Path(__file__).resolve().parents[2]
    workdir = tmp_path / "run"
    launch = _Launch(tmp_path, "cli", [
        "train", "--distributed", "--config", str(root / "experiments/configs/digits_mlp.py"),
        "--workdir", str(workdir), "--set", "train.epochs=1"], num_processes=2,
        module="jaxunlearn.cli")
    launch.wait()
    first, second = launch.texts()
    assert "trained mlp on digits" in first and "trained mlp on digits" not in second
    metrics = json.loads((workdir / "metrics.json").read_text())
    assert metrics["environment"]["process_count"] == 2 and metrics["metrics"]["TA"] > 50
    assert (workdir / "checkpoints").is_dir()


# --- in-process checks of the helpers (no second process) --------------------------------------


def test_initialize_rejects_bad_settings_before_joining(monkeypatch):
    monkeypatch.setenv(distributed.NUM_PROCESSES_ENV, "two")
    with pytest.raises(distributed.DistributedError, match="JAXUNLEARN_NUM_PROCESSES='two'"):
        distributed.initialize()
    monkeypatch.delenv(distributed.NUM_PROCESSES_ENV)
    with pytest.raises(distributed.DistributedError, match=r"process_id must be in \[0, 2\)"):
        distributed.initialize("127.0.0.1:1", num_processes=2, process_id=2)
    with pytest.raises(distributed.DistributedError, match="timeout_seconds must be > 0"):
        distributed.initialize("127.0.0.1:1", 2, 0, timeout_seconds=0)


def test_command_line_flag_reports_a_bad_setting_as_an_error(monkeypatch, capsys):
    from jaxunlearn.cli import _build_parser, main

    args = _build_parser().parse_args(["train", "--distributed", "--config", "c", "--workdir", "w"])
    assert args.distributed
    monkeypatch.setenv(distributed.NUM_PROCESSES_ENV, "-1")
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--distributed", "--original", "a", "--retrained", "b",
              "--unlearned", "c", "--out", "d"])
    assert exit_info.value.code == 2
    assert "jaxunlearn evaluate: error: num_processes must be >= 1" in capsys.readouterr().err


def test_single_process_helpers_are_no_ops():
    from jaxunlearn.train import make_mesh, replicate, tree_digest
    from jaxunlearn.train.sharding import batch_sharded, put, to_host

    assert distributed.process_count() == 1 and distributed.is_main_process()
    distributed.barrier("nothing to wait for")
    distributed.check_same_on_all_processes("anything", "a value")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        distributed.main_print("hello", 3)
    assert output.getvalue() == "hello 3\n"

    mesh = make_mesh()
    tree = {"w": np.arange(8.0, dtype=np.float32).reshape(4, 2), "step": np.int32(3)}
    replicated = replicate(tree, mesh)
    sharded = put(tree["w"], batch_sharded(mesh))
    assert sharded.sharding == batch_sharded(mesh)
    host = to_host({"replicated": replicated, "sharded": sharded})
    np.testing.assert_array_equal(host["replicated"]["w"], tree["w"])
    np.testing.assert_array_equal(host["sharded"], tree["w"])
    assert tree_digest(replicated) == tree_digest(jax.device_get(replicated))
