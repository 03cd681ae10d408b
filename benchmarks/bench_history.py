"""History speed: 100,000 executions, `history --limit 20`, stats, the CLI process, recording cost.

Targets: list 20 <= 20 ms, get_workflow_stats <= 100 ms, `victor workflow history`
<= 400 ms, and the 1,000-node chain with history + snapshots within 2x of the run without.
Run: .venv/bin/python benchmarks/bench_history.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.history import WorkflowExecutionHistory  # noqa: E402

EXECUTIONS = 100_000


def seed(history: WorkflowExecutionHistory, count: int) -> None:
    """Bulk rows in a few big transactions (recording one by one would take minutes)."""
    now = time.time() - count
    rows, nodes = [], []
    for i in range(count):
        eid = f"exec_{i:012x}"
        name = f"workflow_{i % 20}"
        ok = i % 10 != 0
        rows.append(
            (
                eid,
                name,
                "completed" if ok else "failed",
                int(ok),
                now + i,
                now + i + 1.5,
                1.0 + (i % 7) * 0.1,
                2,
                '{"task": "x"}',
                '{"r": 1}',
            )
        )
        for seq in range(2):
            nodes.append(
                (
                    eid,
                    seq,
                    name,
                    f"node_{seq}",
                    "agent",
                    "main",
                    "completed",
                    1,
                    now + i,
                    now + i + 0.5,
                    0.5,
                    1,
                    0,
                )
            )
    with history._db.write() as cursor:
        cursor.executemany(
            "INSERT INTO executions (execution_id, workflow_name, status, success, started_at,"
            " ended_at, duration_seconds, node_count, inputs, outputs)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        cursor.executemany(
            "INSERT INTO node_records (execution_id, seq, workflow_name, node_id, node_type,"
            " thread, status, success, started_at, ended_at, duration_seconds, attempts, iteration)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            nodes,
        )


def timed(fn: Callable[[], object], repeat: int = 20) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def chain_yaml(count: int) -> str:
    lines = ["workflows:", "  chain:", "    nodes:"]
    for i in range(count):
        lines += [
            f"      - id: step_{i}",
            "        type: transform",
            f'        transform: "v{i} = {i}"',
        ]
    return "\n".join(lines) + "\n"


def recording_overhead(folder: Path, rounds: int = 9) -> dict[str, float]:
    """Median times (ms) of the chain run three ways, interleaved so load affects all alike.

    plain: no history, no snapshots. noop: snapshots plus a do-nothing subscriber (the
    executor's own cost of emitting events). history: history recording with snapshots,
    until `execute` returns (the run's path). committed: until everything is in the database.
    `*_cpu`: CPU time of the run's own thread (no waiting for other processes or the GIL).
    """
    from engine.compiler import compile as compile_text
    from engine.execution_engine import WorkflowExecutor

    workflow = compile_text(chain_yaml(1000), source=str(folder / "chain.yaml")).workflows[0]

    def run(kind: str) -> tuple[float, float, float]:
        history = WorkflowExecutionHistory(folder / "chain.db") if kind == "history" else None
        executor = WorkflowExecutor(snapshots=kind != "plain")
        if history is not None:
            executor.subscribe(history.recorder(workflow))
        elif kind == "noop":
            executor.subscribe(lambda event: None)
        start, cpu_start = time.perf_counter(), time.thread_time()
        asyncio.run(executor.execute(workflow, {}))
        ran, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
        if history is not None:
            history.flush()
            history.close()
        return ran * 1000, cpu * 1000, (time.perf_counter() - start) * 1000

    kinds = ("plain", "noop", "history")
    samples: dict[str, list[float]] = {name: [] for name in (*kinds, "committed")}
    for kind in kinds:
        samples[f"{kind}_cpu"] = []
        run(kind)  # warm-up
    for _ in range(rounds):
        for kind in kinds:
            ran, cpu, committed = run(kind)
            samples[kind].append(ran)
            samples[f"{kind}_cpu"].append(cpu)
            if kind == "history":
                samples["committed"].append(committed)
    return {kind: statistics.median(values) for kind, values in samples.items()}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "workflows.db"
        history = WorkflowExecutionHistory(db)
        start = time.perf_counter()
        seed(history, EXECUTIONS)
        print(f"seeded {EXECUTIONS:,} executions in {time.perf_counter() - start:.1f}s")
        list_ms = timed(lambda: history.list_executions(limit=20))
        filtered_ms = timed(lambda: history.list_executions("workflow_3", limit=20))
        stats_ms = timed(lambda: history.get_workflow_stats("workflow_3"), repeat=10)
        all_stats_ms = timed(lambda: history.get_workflow_stats(), repeat=5)
        history.close()
        print(f"history --limit 20 query:        {list_ms:7.2f} ms  (target <= 20 ms)")
        print(f"history -w NAME --limit 20:      {filtered_ms:7.2f} ms")
        print(f"get_workflow_stats(one of 20):   {stats_ms:7.2f} ms  (target <= 100 ms)")
        print(f"get_workflow_stats(all 100k):    {all_stats_ms:7.2f} ms")

        env = dict(os.environ, VICTOR_HOME=str(folder))
        env.pop("VICTOR_HISTORY_URL", None)
        victor = Path(sys.executable).parent / "victor"
        command = [str(victor)] if victor.exists() else [sys.executable, "-m", "engine.cli"]
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(
                [*command, "workflow", "history", "--limit", "20"],
                env=env,
                check=True,
                capture_output=True,
            )
            samples.append(time.perf_counter() - start)
        print(
            f"victor workflow history process: {statistics.median(samples) * 1000:7.0f} ms"
            "  (target <= 400 ms)"
        )

        times = recording_overhead(folder)
        print("1,000-node chain (median wall ms / run-thread CPU ms):")
        for label, kind in (
            ("no history, no snapshots", "plain"),
            ("snapshots + a no-op subscriber (executor only)", "noop"),
            ("history + auto snapshots (the run's path)", "history"),
        ):
            wall, cpu = times[kind], times[f"{kind}_cpu"]
            print(
                f"  {label:48s} {wall:7.1f} / {cpu:6.1f}"
                f"  ratio {wall / times['plain']:.2f}x / {cpu / times['plain_cpu']:.2f}x"
                + ("  (target <= 2x)" if kind == "history" else "")
            )
        print(
            f"  {'history, until everything is committed':48s} {times['committed']:7.1f}"
            f"  ratio {times['committed'] / times['plain']:.2f}x"
        )


if __name__ == "__main__":
    main()
