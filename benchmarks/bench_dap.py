"""DAP stepping latency: `python -m victor_dap` vs debugpy, both over stdio with the same client.

Prints:
- median/p90 of `next` request -> `stopped` event on trivial workflow nodes (target <= 3 ms);
- the same for debugpy stepping a trivial Python loop;
- launch -> first stop on entry for victor_dap (target <= 500 ms).

Run: .venv/bin/python benchmarks/bench_dap.py [--steps N]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


class StdioClient:
    """A minimal blocking DAP client over a subprocess's stdin/stdout."""

    def __init__(self, command: list[str], cwd: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.messages: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.seq = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = stream.read(length)
            self.messages.put((time.perf_counter(), json.loads(body)))

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        self.seq += 1
        body = json.dumps(
            {"seq": self.seq, "type": "request", "command": command, "arguments": arguments or {}}
        )
        data = body.encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()
        return self.seq

    def wait(self, predicate: Any, timeout: float = 20.0) -> tuple[float, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching message")
            stamp, message = self.messages.get(timeout=remaining)
            if message.get("type") == "request":  # reverse requests: answer and move on
                self._answer(message)
                continue
            if predicate(message):
                return stamp, message

    def _answer(self, request: dict[str, Any]) -> None:
        self.seq += 1
        body = json.dumps(
            {
                "seq": self.seq,
                "type": "response",
                "request_seq": request["seq"],
                "command": request["command"],
                "success": True,
            }
        ).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def event(self, name: str, timeout: float = 20.0) -> tuple[float, dict[str, Any]]:
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name, timeout)

    def response(self, seq: int) -> dict[str, Any]:
        return self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq)[1]

    def close(self) -> None:
        try:
            self.send("disconnect", {"terminateDebuggee": True})
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()


def step_times(client: StdioClient, thread_id: int, steps: int) -> list[float]:
    times = []
    for _ in range(steps):
        sent = time.perf_counter()
        client.send("next", {"threadId": thread_id})
        stamp, _ = client.event("stopped")
        times.append((stamp - sent) * 1000)
    return times


def bench_victor(steps: int, workdir: str) -> tuple[list[float], float]:
    program = Path(workdir) / "chain.yaml"
    nodes = "".join(
        f'      - id: n{i}\n        type: transform\n        transform: "x = {i}"\n'
        for i in range(steps + 2)
    )
    program.write_text("workflows:\n  chain:\n    nodes:\n" + nodes)
    client = StdioClient([sys.executable, "-m", "victor_dap"], workdir)
    try:
        client.response(client.send("initialize", {"adapterID": "victor"}))
        started = time.perf_counter()
        client.send("launch", {"program": str(program), "stopOnEntry": True})
        client.event("initialized")
        client.send("configurationDone")
        stamp, stopped = client.event("stopped")
        launch_ms = (stamp - started) * 1000
        times = step_times(client, stopped["body"]["threadId"], steps)
        return times, launch_ms
    finally:
        client.close()


def bench_debugpy(steps: int, workdir: str) -> list[float]:
    program = Path(workdir) / "loop.py"
    program.write_text("x = 0\nfor i in range(100000):\n    x = i\n    x = x + 1\n")
    client = StdioClient([sys.executable, "-m", "debugpy.adapter"], workdir)
    try:
        client.response(client.send("initialize", {"adapterID": "debugpy", "clientID": "bench"}))
        client.send(
            "launch",
            {
                "type": "python",
                "request": "launch",
                "program": str(program),
                "console": "internalConsole",
                "justMyCode": True,
            },
        )
        client.event("initialized")
        client.response(
            client.send(
                "setBreakpoints", {"source": {"path": str(program)}, "breakpoints": [{"line": 3}]}
            )
        )
        client.send("configurationDone")
        _, stopped = client.event("stopped", timeout=60)
        return step_times(client, stopped["body"]["threadId"], steps)
    finally:
        client.close()


def describe(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    median = statistics.median(times)
    return f"{name:<34} median {median:6.2f} ms   p90 {p90:6.2f} ms   (n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        victor, launch_ms = bench_victor(args.steps, workdir)
        print(describe("victor_dap next -> stopped", victor), "target <= 3 ms")
        try:
            print(describe("debugpy next -> stopped", bench_debugpy(args.steps, workdir)))
        except Exception as exc:  # debugpy missing or broken: still report ours
            print(f"debugpy next -> stopped            unavailable: {exc}")
        print(f"{'victor_dap launch -> stop on entry':<34} {launch_ms:8.1f} ms   target <= 500 ms")


if __name__ == "__main__":
    main()
