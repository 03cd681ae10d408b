"""Trace export speed: a 10,000-node trace to HTML (target <= 1 s) and opening it in Chromium
(target <= 2 s, measured as the report's dump-dom time minus a blank page's).
Run: .venv/bin/python benchmarks/bench_trace.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.trace import NodeTraceRecord, ToolCallRecord, WorkflowTrace

NODES = 10_000


def big_trace() -> WorkflowTrace:
    start = time.time()
    records = []
    for i in range(NODES):
        thread = "main" if i % 10 else f"branch_{i % 4}"
        records.append(
            NodeTraceRecord(
                node_id=f"node_{i}",
                node_type="compute",
                start_time=start + i * 0.001,
                end_time=start + i * 0.001 + 0.0008,
                duration_seconds=0.0008,
                inputs={"i": i},
                outputs={"value": i, "text": "x" * 40},
                success=i % 997 != 0,
                status="completed" if i % 997 else "failed",
                error=None if i % 997 else "boom",
                thread=thread,
                tool_calls=(ToolCallRecord("search", {"q": i}, "hit", 0.0002),),
            )
        )
    return WorkflowTrace(
        "exec_bench",
        "bench",
        start,
        start + NODES * 0.001,
        inputs={"task": "x"},
        outputs={},
        success=False,
        nodes=tuple(records),
    )


def chromium_seconds(chromium: str, url: str) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as profile:
        start = time.perf_counter()
        result = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return time.perf_counter() - start, result.stdout


def main() -> None:
    from engine.trace_export import export

    trace = big_trace()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        samples = []
        for _ in range(3):
            start = time.perf_counter()
            export(trace, path, "html")
            samples.append(time.perf_counter() - start)
        print(
            f"10,000-node trace to HTML: {min(samples) * 1000:.0f} ms "
            f"({path.stat().st_size / 1e6:.1f} MB)  (target <= 1000 ms)"
        )
        chromium = shutil.which("chromium")
        if chromium is None:
            print(
                "chromium not installed (scripts/ensure-chromium.sh): page open time not measured"
            )
            return
        blank = Path(tmp) / "blank.html"
        blank.write_text("<!DOCTYPE html><title>b</title><p>b</p>")
        base = min(chromium_seconds(chromium, blank.as_uri())[0] for _ in range(2))
        runs = [chromium_seconds(chromium, path.as_uri()) for _ in range(2)]
        assert all('data-rendered="true"' in dom for _, dom in runs), "report did not render"
        page = min(seconds for seconds, _ in runs)
        print(
            f"Chromium: report {page * 1000:.0f} ms, blank page {base * 1000:.0f} ms, "
            f"page open {max(page - base, 0) * 1000:.0f} ms  (target <= 2000 ms)"
        )


if __name__ == "__main__":
    main()
