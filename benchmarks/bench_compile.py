"""Compile/validate speed: 40,000-line file, 1,000-node workflow, whole `victor workflow validate`.

Targets (issue 2): 40k lines <= 150 ms median; 1,000 nodes with every rule <= 30 ms;
`victor workflow validate` small file, whole process <= 300 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.workflow_gen import generate_workflow
from engine import compile


def _median_ms(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def _phases(text: str) -> dict[str, float]:
    """Time each stage of one compile: YAML parse, model building, validation rules."""
    import engine.validation as validation
    from engine.loader import parse_yaml

    spent: dict[str, list[float]] = {"validate": []}
    original = validation.validate_workflow

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent["validate"].append((time.perf_counter() - start) * 1000)

    validation.validate_workflow = timed
    try:
        total, _ = _median_ms(lambda: compile(text, source="/tmp/k.yaml"), 15)
    finally:
        validation.validate_workflow = original
    parse, _ = _median_ms(lambda: parse_yaml(text, "/tmp/k.yaml"), 15)
    rules = statistics.median(spent["validate"])
    return {"parse": parse, "model": total - parse - rules, "validate": rules, "total": total}


def main() -> None:
    big = generate_workflow(40_000)
    lines = big.count("\n")
    result = compile(big, source="/tmp/big.yaml")
    assert result.ok, [p.format() for p in result.errors][:5]
    nodes = len(result.workflows[0].nodes)
    median, worst = _median_ms(lambda: compile(big, source="/tmp/big.yaml"), 9)
    print(
        f"compile+validate {lines} lines ({nodes} nodes): median {median:.1f} ms, "
        f"max {worst:.1f} ms  [target <= 150 ms]"
    )

    thousand = generate_workflow(nodes=1000)
    compile(thousand, source="/tmp/k.yaml")
    median, worst = _median_ms(lambda: compile(thousand, source="/tmp/k.yaml"), 15)
    print(
        f"compile+validate 1,000 nodes: median {median:.1f} ms, max {worst:.1f} ms"
        "  [target <= 30 ms]"
    )

    phases = _phases(thousand)
    print(
        "  phases (median ms): "
        + ", ".join(f"{k} {v:.1f}" for k, v in phases.items())
        + "  [target for the validation rules <= 30 ms]"
    )

    with tempfile.TemporaryDirectory() as folder:
        small = Path(folder) / "small.yaml"
        small.write_text(generate_workflow(nodes=5))
        command = [str(Path(sys.executable).parent / "victor"), "workflow", "validate", str(small)]
        subprocess.run(command, check=True, capture_output=True)
        median, worst = _median_ms(
            lambda: subprocess.run(command, check=True, capture_output=True), 7
        )
        print(
            f"`victor workflow validate` small file, whole process: median {median:.0f} ms, "
            f"max {worst:.0f} ms  [target <= 300 ms]"
        )


if __name__ == "__main__":
    main()
