"""Executor speed figures (printed, not asserted).

1. A 1,000-node linear chain of trivial transform nodes, with an event
   subscriber and in-memory snapshots on: target median <= 20 ms.
2. The same chain in LangGraph (`StateGraph`, no checkpointer) when
   `langgraph` is importable: target ratio >= 8x in our favour.
3. A 100-way parallel fan-out and join: target median <= 10 ms.
4. Whole-process `victor workflow run examples/quick.yaml`: target <= 300 ms.

Run: `.venv/bin/python benchmarks/bench_executor.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def chain_yaml(count: int) -> str:
    lines = [
        "workflows:",
        "  chain:",
        "    execution:",
        "      max_iterations: 10",
        f"      node_visit_limit: {count}",
        "    nodes:",
    ]
    for i in range(count):
        lines += [f"      - id: n{i}", "        type: transform", '        transform: "x = x + 1"']
    return "\n".join(lines) + "\n"


def fanout_yaml(width: int) -> str:
    children = ", ".join(f"c{i}" for i in range(width))
    lines = [
        "workflows:",
        "  fan:",
        "    nodes:",
        "      - id: fan",
        "        type: parallel",
        f"        parallel_nodes: [{children}]",
        "        join_strategy: all",
        "        next: [join]",
    ]
    for i in range(width):
        lines += [
            f"      - id: c{i}",
            "        type: transform",
            f'        transform: "v{i} = {i}"',
            "        next: [__end__]",
        ]
    lines += ["      - id: join", "        type: transform", '        transform: "joined = True"']
    return "\n".join(lines) + "\n"


def compile_one(text: str) -> Any:
    import engine

    result = engine.compile(text, source="bench.yaml")
    if not result.ok:
        raise SystemExit("\n".join(p.format() for p in result.errors[:5]))
    return result.workflows[0]


def timed_runs(make_coro: Any, runs: int) -> list[float]:
    async def measure() -> list[float]:
        times = []
        await make_coro()  # warm-up (compiles expressions, caches)
        for _ in range(runs):
            start = time.perf_counter()
            await make_coro()
            times.append(time.perf_counter() - start)
        return times

    return asyncio.run(measure())


def bench_chain(runs: int) -> float:
    from engine.execution_engine import WorkflowExecutor

    workflow = compile_one(chain_yaml(1000))
    events: list[Any] = []
    executor = WorkflowExecutor(subscribers=[events.append], snapshots=True)

    async def once() -> None:
        events.clear()
        result = await executor.execute(workflow, {"x": 0})
        assert result.success and result.final_state["x"] == 1000, result.error

    times = timed_runs(once, runs)
    median = statistics.median(times)
    print(
        f"chain 1000 transform nodes (events+snapshots): median {median * 1e3:.2f} ms, "
        f"min {min(times) * 1e3:.2f} ms, {len(events)} events/run  [target <= 20 ms]"
    )
    return median


def bench_langgraph(runs: int, ours: float) -> None:
    try:
        from typing import TypedDict

        from langgraph.graph import END, START, StateGraph
    except ImportError:
        print("langgraph not installed: skipped the comparison (pip install langgraph)")
        return

    class State(TypedDict):
        x: int

    def step(state: State) -> dict[str, int]:
        return {"x": state["x"] + 1}

    graph = StateGraph(State)
    for i in range(1000):
        graph.add_node(f"n{i}", step)
    graph.add_edge(START, "n0")
    for i in range(999):
        graph.add_edge(f"n{i}", f"n{i + 1}")
    graph.add_edge("n999", END)
    app = graph.compile()

    async def once() -> None:
        out = await app.ainvoke({"x": 0}, {"recursion_limit": 2000})
        assert out["x"] == 1000

    times = timed_runs(once, max(3, runs // 3))
    median = statistics.median(times)
    print(
        f"langgraph StateGraph same chain: median {median * 1e3:.2f} ms; "
        f"ratio {median / ours:.1f}x  [target >= 8x]"
    )


def bench_fanout(runs: int) -> None:
    from engine.execution_engine import WorkflowExecutor

    workflow = compile_one(fanout_yaml(100))
    events: list[Any] = []
    executor = WorkflowExecutor(subscribers=[events.append])

    async def once() -> None:
        events.clear()
        result = await executor.execute(workflow)
        assert result.success and result.final_state["v99"] == 99, result.error

    times = timed_runs(once, runs)
    print(
        f"parallel fan-out 100 + join: median {statistics.median(times) * 1e3:.2f} ms, "
        f"min {min(times) * 1e3:.2f} ms  [target <= 10 ms]"
    )


def bench_cli(runs: int) -> None:
    victor = Path(sys.executable).parent / "victor"
    if not victor.exists():
        print(f"{victor} missing: skipped the CLI figure (pip install -e . --no-deps)")
        return
    command = [
        str(victor),
        "workflow",
        "run",
        str(REPO / "examples" / "quick.yaml"),
        "-c",
        '{"text": "a b c d e"}',
        "--json",
        "--no-history",
    ]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(
        f"victor workflow run (5-node example, whole process): median "
        f"{statistics.median(times) * 1e3:.0f} ms, min {min(times) * 1e3:.0f} ms  "
        "[target <= 300 ms]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    ours = bench_chain(args.runs)
    bench_langgraph(args.runs, ours)
    bench_fanout(args.runs)
    bench_cli(max(5, args.runs // 3))


if __name__ == "__main__":
    main()
