"""Multi-process runs on JAX's own distributed runtime (``jax.distributed``).

One Python process per host (or per accelerator) runs the same program. After :func:`initialize`,
``jax.devices()`` lists the devices of every process, so the one-axis mesh of
:func:`jaxunlearn.train.make_mesh` spans all hosts, each process feeds its devices' shard of every
global batch, and XLA all-reduces the gradients across processes (NCCL on GPUs, gloo on CPUs).
Every process loads the same data deterministically; only process 0 prints, shows progress bars
and writes metrics files, and Orbax checkpoints are written by all processes together.

Where the processes come from, first match wins:

1. explicit arguments of :func:`initialize`;
2. the environment: ``JAXUNLEARN_COORDINATOR_ADDRESS`` (``host:port`` of process 0),
   ``JAXUNLEARN_NUM_PROCESSES``, ``JAXUNLEARN_PROCESS_ID`` and optionally
   ``JAXUNLEARN_LOCAL_DEVICE_IDS`` (``0,1``), ``JAXUNLEARN_INITIALIZATION_TIMEOUT`` and
   ``JAXUNLEARN_HEARTBEAT_TIMEOUT`` (seconds);
3. JAX's cluster auto-detection (SLURM, Open MPI, Cloud TPU; see ``jax.distributed.initialize``).

A process that cannot meet all the others within the timeout (one was never started, a wrong
address or port) prints a clear error naming the coordinator and exits with
:data:`TIMEOUT_EXIT_CODE`, instead of hanging or aborting inside the runtime.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import threading
from typing import Any, Sequence

import jax
import numpy as np

COORDINATOR_ADDRESS_ENV = "JAXUNLEARN_COORDINATOR_ADDRESS"
NUM_PROCESSES_ENV = "JAXUNLEARN_NUM_PROCESSES"
PROCESS_ID_ENV = "JAXUNLEARN_PROCESS_ID"
LOCAL_DEVICE_IDS_ENV = "JAXUNLEARN_LOCAL_DEVICE_IDS"
TIMEOUT_ENV = "JAXUNLEARN_INITIALIZATION_TIMEOUT"
HEARTBEAT_TIMEOUT_ENV = "JAXUNLEARN_HEARTBEAT_TIMEOUT"

DEFAULT_TIMEOUT_SECONDS = 300
"""How long a process waits for all the others to join (JAX's own default)."""

TIMEOUT_EXIT_CODE = 124
"""Exit status of a process that gave up waiting for the others (as ``timeout(1)``)."""

# JAX's own deadline is set a little later than ours, so our message is the one that is printed.
_RUNTIME_GRACE_SECONDS = 10


class DistributedError(RuntimeError):
    """The processes of a distributed run could not be joined, or they disagree."""


@dataclasses.dataclass(frozen=True)
class ProcessInfo:
    """Where this process stands in the run.

    Attributes:
      process_index: this process's id, ``0 <= process_index < process_count``.
      process_count: the number of processes.
      local_device_count: devices attached to this process.
      device_count: devices of all processes (the size of the default mesh).
    """

    process_index: int
    process_count: int
    local_device_count: int
    device_count: int


def _env_int(name: str) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise DistributedError(f"{name}={text!r} must be an integer") from None


def _env_device_ids(name: str) -> list[int] | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise DistributedError(f"{name}={text!r} must be comma-separated integers") from None


def is_initialized() -> bool:
    """Whether ``jax.distributed`` has been initialized in this process."""
    check = getattr(jax.distributed, "is_initialized", None)
    if check is not None:
        return bool(check())
    from jax._src import distributed as _distributed  # older JAX without is_initialized

    return _distributed.global_state.client is not None


def enable_cpu_collectives(implementation: str = "gloo") -> str | None:
    """Let CPU devices of different processes all-reduce (gloo), unless a choice was made.

    JAX turns CPU collectives off in some versions; without them a multi-process CPU run fails at
    its first cross-process all-reduce. The option only affects the CPU backend, so it is harmless
    on GPU hosts. Returns the implementation in effect (``None`` if this JAX has no such option).
    """
    try:
        current = jax.config.jax_cpu_collectives_implementation
    except AttributeError:
        return None
    if current in (None, "", "none"):
        jax.config.update("jax_cpu_collectives_implementation", implementation)
        current = implementation
    return current


def _describe(address: str | None, num_processes: int | None, process_id: int | None) -> str:
    where = f"the coordinator at {address}" if address else "the auto-detected coordinator"
    who = "this process" if process_id is None else f"process {process_id}"
    of = f" of {num_processes}" if num_processes else ""
    return f"{who}{of} could not join {where}"


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    local_device_ids: int | Sequence[int] | None = None,
    *,
    timeout_seconds: int | None = None,
    heartbeat_timeout_seconds: int | None = None,
    cluster_detection_method: str | None = None,
    quiet_other_processes: bool = False,
) -> ProcessInfo:
    """Join this process to a multi-process run (``jax.distributed.initialize``).

    Call it before anything touches devices (``jax.devices()``, creating an array). Arguments left
    ``None`` come from the ``JAXUNLEARN_*`` environment variables (see the module docstring), then
    from JAX's cluster auto-detection (SLURM, Open MPI, TPU). Calling it again with the same or no
    arguments returns the current :class:`ProcessInfo`.

    Args:
      coordinator_address: ``host:port`` where process 0 serves the coordinator (every process
        passes the same value).
      num_processes: the number of processes of the run.
      process_id: this process's id in ``[0, num_processes)``.
      local_device_ids: the accelerators this process owns (e.g. one GPU per process).
      timeout_seconds: how long to wait for all processes to join (default
        ``JAXUNLEARN_INITIALIZATION_TIMEOUT`` or :data:`DEFAULT_TIMEOUT_SECONDS`). On expiry the
        process prints what went wrong and exits with :data:`TIMEOUT_EXIT_CODE`.
      heartbeat_timeout_seconds: after how long without a heartbeat a process is declared dead
        and the others stop (default ``JAXUNLEARN_HEARTBEAT_TIMEOUT``, else JAX's 100 s). A
        process that dies mid-run makes the others fail at their next collective at once, but
        they wait this long before exiting.
      cluster_detection_method: passed to JAX (e.g. ``"mpi4py"``, or ``"deactivate"``).
      quiet_other_processes: send the standard output of every process but process 0 to
        ``os.devnull`` (what the command line does), so a run prints its results once.

    Returns:
      :class:`ProcessInfo` of this process.

    Raises:
      DistributedError: bad arguments, no cluster found, or devices were used before.
    """
    coordinator_address = coordinator_address or os.environ.get(COORDINATOR_ADDRESS_ENV) or None
    num_processes = num_processes if num_processes is not None else _env_int(NUM_PROCESSES_ENV)
    process_id = process_id if process_id is not None else _env_int(PROCESS_ID_ENV)
    if local_device_ids is None:
        local_device_ids = _env_device_ids(LOCAL_DEVICE_IDS_ENV)
    if timeout_seconds is None:
        timeout_seconds = _env_int(TIMEOUT_ENV) or DEFAULT_TIMEOUT_SECONDS
    if heartbeat_timeout_seconds is None:
        heartbeat_timeout_seconds = _env_int(HEARTBEAT_TIMEOUT_ENV)
    if timeout_seconds <= 0:
        raise DistributedError(f"timeout_seconds must be > 0, got {timeout_seconds}")
    if num_processes is not None and num_processes < 1:
        raise DistributedError(f"num_processes must be >= 1, got {num_processes}")
    if process_id is not None and num_processes is not None and not 0 <= process_id < num_processes:
        raise DistributedError(
            f"process_id must be in [0, {num_processes}), got {process_id}")

    if is_initialized():
        info = process_info()
        if ((num_processes is not None and num_processes != info.process_count)
                or (process_id is not None and process_id != info.process_index)):
            raise DistributedError(
                f"jax.distributed is already initialized as process {info.process_index} of "
                f"{info.process_count}; cannot re-initialize as process {process_id} of "
                f"{num_processes}")
        return info

    enable_cpu_collectives()
    options: dict[str, Any] = {
        "initialization_timeout": int(timeout_seconds) + _RUNTIME_GRACE_SECONDS}
    if heartbeat_timeout_seconds is not None:
        options["heartbeat_timeout_seconds"] = int(heartbeat_timeout_seconds)
    if cluster_detection_method is not None:
        options["cluster_detection_method"] = cluster_detection_method

    joined = threading.Event()
    failure = _describe(coordinator_address, num_processes, process_id)

    def watchdog() -> None:
        # The runtime blocks in C++ while it waits for the others and aborts the process when its
        # own deadline passes; say what happened first, in words, and leave with a known status.
        if not joined.wait(timeout_seconds):
            print(
                f"jaxunlearn: error: {failure} within {timeout_seconds} s: not every process "
                "started, or they disagree on the coordinator address, port or number of "
                "processes. Start all processes with the same "
                f"{COORDINATOR_ADDRESS_ENV}/{NUM_PROCESSES_ENV} and distinct "
                f"{PROCESS_ID_ENV}, and check that process 0's host and port are reachable.",
                file=sys.stderr, flush=True,
            )
            os._exit(TIMEOUT_EXIT_CODE)

    thread = threading.Thread(target=watchdog, name="jaxunlearn-distributed-watchdog",
                              daemon=True)
    thread.start()
    try:
        jax.distributed.initialize(
            coordinator_address, num_processes, process_id, local_device_ids, **options)
        info = process_info()  # the devices of every process: the topology exchange happens here
    except (ValueError, TypeError) as error:
        reason = str(error).rstrip(".")
        if coordinator_address is None and num_processes is None:
            failure, reason = "no distributed run found", f"no cluster detected ({reason})"
        raise DistributedError(
            f"{failure}: {reason}. Pass the coordinator address, the number of processes and "
            f"this process's id (or set {COORDINATOR_ADDRESS_ENV}, {NUM_PROCESSES_ENV} and "
            f"{PROCESS_ID_ENV}), or run under a cluster manager JAX detects (SLURM, Open MPI)."
        ) from error
    except RuntimeError as error:
        raise DistributedError(f"{failure}: {error}") from error
    finally:
        joined.set()
    if quiet_other_processes and info.process_index != 0:
        sys.stdout = open(os.devnull, "w")
    return info


def process_info() -> ProcessInfo:
    """The :class:`ProcessInfo` of this process (one process when not distributed)."""
    return ProcessInfo(jax.process_index(), jax.process_count(), jax.local_device_count(),
                       jax.device_count())


def process_count() -> int:
    """The number of processes (1 unless :func:`initialize` joined several)."""
    return jax.process_count() if is_initialized() else 1


def is_main_process() -> bool:
    """Whether this is process 0, the one that prints and writes results.

    Before :func:`initialize` a process counts as the main one, and this does not touch the
    devices (so it is safe to call before initializing).
    """
    return jax.process_index() == 0 if is_initialized() else True


def main_print(*args: Any, **kwargs: Any) -> None:
    """``print`` on process 0 only."""
    if is_main_process():
        print(*args, **kwargs)


def barrier(name: str) -> None:
    """Wait until every process reaches the barrier ``name`` (nothing to wait for alone)."""
    if process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def check_same_on_all_processes(value: str | bytes, what: str) -> None:
    """Raise :class:`DistributedError` unless ``value`` is the same on every process.

    Data and configs must agree across processes (each loads its own copy); a difference would
    silently train different replicas. Compares 32-byte digests, so the collective is tiny.
    """
    if process_count() <= 1:
        return
    from jax.experimental import multihost_utils

    data = value.encode() if isinstance(value, str) else bytes(value)
    digest = np.frombuffer(hashlib.sha256(data).digest(), np.uint8)
    digests = np.asarray(multihost_utils.process_allgather(digest))
    differing = [index for index, row in enumerate(digests) if not np.array_equal(row, digests[0])]
    if differing:
        raise DistributedError(
            f"{what} differs between processes (process 0 vs processes {differing}); every "
            "process must load the same data and config")


def initialize_command_line(command: str) -> ProcessInfo:
    """:func:`initialize` for ``jaxunlearn <command> --distributed``: the processes come from the
    ``JAXUNLEARN_*`` environment or the cluster manager; only process 0 prints. A failure is
    reported as the command's error (exit status 2) instead of a traceback."""
    try:
        return initialize(quiet_other_processes=True)
    except DistributedError as error:
        print(f"jaxunlearn {command}: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
