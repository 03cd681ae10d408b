"""`victor workflow run` on a real terminal (a pseudo-terminal): the interactive HITL prompt."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal"),
]

VICTOR = Path(sys.executable).parent / "victor"
TIMEOUT = 30.0


class Terminal:
    """`victor` with stdin, stdout and stderr on one pseudo-terminal."""

    def __init__(self, *args: str, home: Path) -> None:
        if not VICTOR.exists():
            pytest.skip(f"{VICTOR} not installed: run `.venv/bin/pip install -e . --no-deps`")
        self.master, slave = pty.openpty()
        env = {**os.environ, "VICTOR_HOME": str(home), "COLUMNS": "200", "NO_COLOR": "1"}
        self.process = subprocess.Popen(
            [str(VICTOR), "workflow", "run", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.output = ""

    def _read(self, deadline: float) -> bool:
        """Read what is available before `deadline`; False at end of output."""
        ready, _, _ = select.select([self.master], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        self.output += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return True

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while text not in self.output:
            if time.monotonic() > deadline or not self._read(deadline):
                raise AssertionError(f"{text!r} never appeared; output so far:\n{self.output}")

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def finish(self) -> int:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and self._read(deadline):
            pass
        try:
            return self.process.wait(timeout=max(deadline - time.monotonic(), 1))
        finally:
            os.close(self.master)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_hitl_prompt_on_a_terminal_takes_the_typed_answer(tmp_path: Path) -> None:
    context = '{"topic": "caching", "text": "TODO: a\\nTODO: b\\nbody"}'
    terminal = Terminal(
        str(REPO_ROOT / "examples" / "document_review.yaml"), "-c", context, home=tmp_path
    )
    try:
        terminal.wait_for("Quality is 0.33. Publish anyway?")
        terminal.wait_for("y/n> ")
        terminal.type("no")
        code = terminal.finish()
    finally:
        terminal.kill()
    assert code == 0, terminal.output
    assert '"approval": {\n    "approved": false,\n    "value": "no"' in terminal.output
    assert '"status": "rejected"' in terminal.output
    assert "succeeded" in terminal.output


def test_unanswered_prompt_times_out_to_the_fallback_and_the_process_exits(
    tmp_path: Path,
) -> None:
    workflow = tmp_path / "ask.yaml"
    workflow.write_text(
        "workflows:\n  w:\n    nodes:\n      - id: ask\n        type: hitl\n"
        "        prompt: 'Anyone there?'\n        timeout: 0.5\n        fallback: continue\n"
        "        default_value: nobody\n      - id: after\n        type: transform\n"
        '        transform: "seen = ask_response.value"\n'
    )
    terminal = Terminal(str(workflow), "--no-history", home=tmp_path)
    try:
        terminal.wait_for("Anyone there?")
        code = terminal.finish()  # no answer typed: the prompt must not keep the process alive
    finally:
        terminal.kill()
    assert code == 0, terminal.output
    assert '"seen": "nobody"' in terminal.output
    assert "no answer: fallback continue" in terminal.output
