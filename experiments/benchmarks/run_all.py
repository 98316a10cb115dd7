"""Run every benchmark and write one JSON and one Markdown table.

Each benchmark script runs in its own process (a clean device state and its own compilation
cache), writes its JSON into ``--out``, and this script gathers them into
``benchmarks.json`` (every benchmark's rows, arguments and environment) and ``benchmarks.md``
(one table per benchmark). ``--small`` runs the tiny CPU settings the test suite uses; the
default settings are the full ones, meant for a GPU.

    python experiments/benchmarks/run_all.py                      # full settings (GPU)
    python experiments/benchmarks/run_all.py --small --out /tmp/bench
    python experiments/benchmarks/run_all.py --only shadow_models,unlearn_vs_retrain
    python experiments/benchmarks/run_all.py --collect docs/benchmarks/h200   # tables of saved JSONs

``--collect DIR`` runs nothing: it writes ``DIR/benchmarks.md`` from the benchmark JSONs already in
``DIR`` (e.g. scripts run one by one with their own arguments on a borrowed GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (script, full arguments, small arguments)
BENCHMARKS = {
    "train_throughput": ("train_throughput.py", [],
                         ["--model", "small_cnn", "--batch-size", "16", "--steps", "2",
                          "--warmup", "1", "--dataset-size", "64"]),
    "transform_overhead": ("transform_overhead.py", [],
                           ["--model", "small_cnn", "--batch-size", "16", "--steps", "2",
                            "--warmup", "1", "--microbatches", "2"]),
    "unlearn_throughput": ("unlearn_throughput.py", [],
                           ["--model", "small_cnn", "--batch-size", "16", "--steps", "2",
                            "--warmup", "1", "--dataset-size", "320",
                            "--methods", "finetune,neggrad_plus"]),
    "shadow_models": ("shadow_models.py", [], ["--models", "4", "--epochs", "1"]),
    "unlearn_vs_retrain": ("unlearn_vs_retrain.py", [],
                           ["--methods", "finetune", "--epochs", "1,2", "--repeats", "1",
                            "--train-epochs", "5"]),
    "unlearn_many": ("unlearn_many.py", [], ["--small"]),
    "cpu_vs_torch": ("cpu_vs_torch.py", [], ["--batch-size", "16", "--steps", "2",
                                             "--warmup", "1"]),
}


def _markdown(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    columns = list(rows[0])
    def cell(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(column, "")) for column in columns) + " |"
              for row in rows]
    return "\n".join(lines)


def _section(name: str, record: dict, seconds: float | None = None) -> str:
    environment = record.get("environment", {})
    packages = environment.get("packages", {})
    where = (f"{environment.get('device_count', '?')} x {environment.get('device_kind', '?')}, "
             f"jax {packages.get('jax', '?')}")
    if seconds is not None:
        where += f", {seconds:.0f} s"
    arguments = {key: value for key, value in record.get("arguments", {}).items() if key != "out"}
    return (f"## {name}\n\n{where}; arguments {json.dumps(arguments, sort_keys=True)}\n\n"
            f"{_markdown(record['rows'])}")


def collect(directory: str) -> int:
    """Write ``directory/benchmarks.md`` from the benchmark JSONs in ``directory``."""
    if not os.path.isdir(directory):
        raise SystemExit(f"--collect: {directory!r} is not a directory")
    sections = []
    for filename in sorted(os.listdir(directory)):
        if not filename.endswith(".json") or filename == "benchmarks.json":
            continue
        with open(os.path.join(directory, filename)) as handle:
            record = json.load(handle)
        if "rows" in record:
            sections.append(_section(filename[:-len(".json")], record))
    if not sections:
        raise SystemExit(f"--collect: no benchmark JSON in {directory!r}")
    path = os.path.join(directory, "benchmarks.md")
    with open(path, "w") as handle:
        handle.write("# Benchmarks\n\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {path} ({len(sections)} benchmarks)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="tiny CPU settings")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--out", default="results/benchmarks")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per benchmark")
    parser.add_argument("--collect", default="",
                        help="write DIR/benchmarks.md from the JSONs in DIR and run nothing")
    args = parser.parse_args()
    if args.collect:
        return collect(args.collect)
    names = [name for name in args.only.split(",") if name] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"--only: unknown benchmarks {unknown}; available: {sorted(BENCHMARKS)}")
    os.makedirs(args.out, exist_ok=True)

    combined, sections, failures = {}, [], []
    for name in names:
        script, full, small = BENCHMARKS[name]
        out = os.path.join(args.out, f"{name}.json")
        command = [sys.executable, os.path.join(HERE, script), *(small if args.small else full),
                   "--out", out]
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        try:
            result = subprocess.run(command, timeout=args.timeout)
            returncode = result.returncode
        except subprocess.TimeoutExpired:
            returncode = "timeout"
        seconds = time.perf_counter() - started
        if returncode != 0 or not os.path.exists(out):
            failures.append(name)
            sections.append(f"## {name}\n\nfailed ({returncode}) after {seconds:.0f} s")
            continue
        with open(out) as handle:
            record = json.load(handle)
        record["wall_seconds"] = seconds
        combined[name] = record
        sections.append(_section(name, record, seconds))

    with open(os.path.join(args.out, "benchmarks.json"), "w") as handle:
        json.dump({"small": args.small, "benchmarks": combined, "failed": failures}, handle,
                  indent=2)
    markdown = "# Benchmarks\n\n" + "\n\n".join(sections) + "\n"
    with open(os.path.join(args.out, "benchmarks.md"), "w") as handle:
        handle.write(markdown)
    print(markdown)
    print(f"wrote {args.out}/benchmarks.json and benchmarks.md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
