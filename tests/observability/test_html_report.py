"""The HTML trace report in headless Chromium: it renders, and workflow data never executes.

Chromium comes from Debian (scripts/ensure-chromium.sh); the tests skip when it is absent.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from engine.trace import WorkflowTracer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (run scripts/ensure-chromium.sh)"
)

PAYLOADS = [
    "<script>document.title='XSS-SCRIPT';window.__xss=1;document.documentElement"
    ".setAttribute('data-pwned-script','1')</script>",
    "\"><img src=x onerror=\"document.documentElement.setAttribute('data-pwned-img','1')\">",
    "</script><script>document.documentElement.setAttribute('data-pwned-close','1')</script>",
]
"""Each payload, if it ever runs, leaves its own `data-pwned-*` mark on the <html> element."""


def chromium(*args: str) -> str:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=3000",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def hostile_report(tmp_path: Path) -> Path:
    tracer = WorkflowTracer()
    tracer.start_trace("review <b>bold</b>", inputs={"task": PAYLOADS[0]})
    tracer.start_node("fetch", "compute", {"url": PAYLOADS[1]})
    tracer.trace_tool_call("http_get", {"u": PAYLOADS[2]}, PAYLOADS[0], 0.01)
    tracer.end_node({"body": PAYLOADS[0], "attr": PAYLOADS[1], "close": PAYLOADS[2]})
    tracer.start_node("judge", "agent", thread="judge")
    tracer.end_node(None, success=False, error=PAYLOADS[1], node_id="judge", thread="judge")
    tracer.end_trace(outputs={"summary": PAYLOADS[0]})
    return tracer.export_trace(tmp_path / "report.html", "html")


def executed_payloads(dom: str) -> set[str]:
    """Which payloads ran in a page, judged from its DOM after scripts settled."""
    ran = set(re.findall(r"data-pwned-(\w+)=", dom))
    if "XSS-SCRIPT" in dom.split("</title>")[0]:
        ran.add("title")
    return ran


def unsafe_page(tmp_path: Path) -> Path:
    """A deliberately vulnerable page: it inserts the same payloads as raw HTML."""
    encoded = base64.b64encode(json.dumps(PAYLOADS).encode()).decode()
    page = tmp_path / "unsafe.html"
    page.write_text(
        "<!doctype html><html><head><title>unsafe</title></head><body><div id=out></div>"
        "<script>const payloads = JSON.parse(atob('" + encoded + "'));"
        "for (const p of payloads) {"
        " const box = document.createElement('div'); box.innerHTML = p;"
        " document.getElementById('out').appendChild(box); document.write(p); }"
        "</script></body></html>"
    )
    return page


def test_the_execution_check_detects_payloads_on_an_unsafe_page(tmp_path: Path) -> None:
    """Negative control: the very check used on the report does see payloads that run."""
    dom = chromium("--dump-dom", unsafe_page(tmp_path).as_uri())
    assert executed_payloads(dom) == {"script", "img", "close", "title"}


def test_payloads_in_outputs_do_not_execute_and_the_page_renders(tmp_path: Path) -> None:
    report = hostile_report(tmp_path)
    html = report.read_text()
    offline = html.replace("http://www.w3.org/2000/svg", "")
    assert "http://" not in offline and "https://" not in offline and "<link" not in offline
    dom = chromium("--dump-dom", report.as_uri())
    assert 'data-rendered="true"' in dom, "the report script did not finish"
    assert executed_payloads(dom) == set()
    # The payloads are shown as text: the failure list prints the error verbatim.
    assert "&lt;img src=x onerror=" in dom
    assert '<tr class="failed"' in dom

    shot = tmp_path / "report.png"
    chromium("--window-size=1200,900", f"--screenshot={shot}", report.as_uri())
    assert shot.stat().st_size > 10_000  # a blank page is far smaller


def test_report_draws_lanes_table_and_graph(tmp_path: Path) -> None:
    tracer = WorkflowTracer()
    tracer.start_trace("wf")
    tracer.start_node("a", "transform")
    tracer.end_node({})
    tracer.start_node("b1", "agent", thread="b1")
    tracer.start_node("b2", "agent", thread="b2")
    tracer.end_node({}, node_id="b1", thread="b1")
    tracer.end_node({}, node_id="b2", thread="b2")
    tracer.end_trace({})
    dom = chromium("--dump-dom", tracer.export_trace(tmp_path / "r.html", "html").as_uri())
    assert dom.count('class="lane"') == 3
    assert dom.count('class="bar') == 3
    assert dom.count('class="gnode"') == 3
    assert "<svg" in dom
