"""LSP speed: open -> diagnostics, edit -> fresh diagnostics, completion and hover on a
generated 40,000-line workflow, for victor_lsp and (when installed) yaml-language-server
with our JSON Schema. Prints figures; targets: open <= 300 ms median, edit <= 150 ms beyond
the debounce, completion/hover <= 50 ms.

    python benchmarks/bench_lsp.py [--runs 5]
    (cd benchmarks/peers && npm ci)   # to include yaml-language-server
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.workflow_gen import generate_workflow  # noqa: E402

SCHEMA = ROOT / "engine" / "schema" / "workflow.schema.json"
YAML_LS = (
    ROOT
    / "benchmarks"
    / "peers"
    / "node_modules"
    / "yaml-language-server"
    / "bin"
    / "yaml-language-server"
)


class Bench:
    def __init__(self, name: str, command: list[str], settings: dict[str, Any]) -> None:
        self.name = name
        self.command = command
        self.settings = settings
        self.client = LanguageClient("bench", "1")
        self.waiters: dict[str, asyncio.Future[list[types.Diagnostic]]] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            waiter = self.waiters.get(params.uri)
            if waiter is not None and not waiter.done():
                waiter.set_result(list(params.diagnostics))

        @self.client.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list[Any]:
            return [self.settings.get(item.section or "", None) for item in params.items]

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(params: Any) -> None:
            return None

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def progress(params: Any) -> None:
            return None

    async def start(self, root: Path) -> None:
        await self.client.start_io(*self.command)
        caps = types.ClientCapabilities(
            workspace=types.WorkspaceClientCapabilities(configuration=True),
            text_document=types.TextDocumentClientCapabilities(
                publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                    version_support=True
                ),
                completion=types.CompletionClientCapabilities(),
                hover=types.HoverClientCapabilities(),
            ),
        )
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=caps,
                root_uri=root.as_uri(),
                initialization_options=self.settings.get("victor"),
            )
        )
        self.client.initialized(types.InitializedParams())
        self.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=self.settings)
        )

    async def until_diagnostics(self, uri: str, send: Any) -> float:
        loop = asyncio.get_running_loop()
        self.waiters[uri] = loop.create_future()
        start = time.perf_counter()
        send()
        await asyncio.wait_for(self.waiters[uri], 120)
        return time.perf_counter() - start

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 10)
            self.client.exit(None)
        finally:
            await self.client.stop()


async def measure(
    bench: Bench, text: str, edited: str, runs: int, debounce: float
) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"open": [], "edit": [], "completion": [], "hover": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        await bench.start(root)
        lines = text.splitlines()
        target = next(i for i, line in enumerate(lines) if line.strip().startswith("next: ["))
        hover_line = next(i for i, line in enumerate(lines) if line.strip().startswith("- id:"))
        for run in range(runs):
            path = root / f"big{run}.workflow.yaml"
            path.write_text(text, encoding="utf-8")
            uri = path.as_uri()
            item = types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)
            figures["open"].append(
                await bench.until_diagnostics(
                    uri,
                    lambda item=item: bench.client.text_document_did_open(
                        types.DidOpenTextDocumentParams(text_document=item)
                    ),
                )
            )
            change = types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)],
            )
            elapsed = await bench.until_diagnostics(
                uri, lambda change=change: bench.client.text_document_did_change(change)
            )
            figures["edit"].append(max(0.0, elapsed - debounce))
            doc = types.TextDocumentIdentifier(uri=uri)
            start = time.perf_counter()
            await bench.client.text_document_completion_async(
                types.CompletionParams(
                    text_document=doc,
                    position=types.Position(line=target, character=len(lines[target]) - 1),
                )
            )
            figures["completion"].append(time.perf_counter() - start)
            start = time.perf_counter()
            await bench.client.text_document_hover_async(
                types.HoverParams(
                    text_document=doc,
                    position=types.Position(
                        line=hover_line, character=lines[hover_line].index("id") + 1
                    ),
                )
            )
            figures["hover"].append(time.perf_counter() - start)
            bench.client.text_document_did_close(
                types.DidCloseTextDocumentParams(text_document=doc)
            )
        await bench.stop()
    return figures


def report(name: str, figures: dict[str, list[float]], targets: dict[str, float]) -> None:
    print(f"\n{name}")
    for key, values in figures.items():
        median = statistics.median(values) * 1000
        target = targets.get(key)
        verdict = (
            ""
            if target is None
            else ("  ok" if median <= target else f"  OVER target {target:.0f} ms")
        )
        fastest = min(values) * 1000
        # The first run meets cold caches (expressions compiled, schema tables built).
        first = values[0] * 1000
        print(
            f"  {key:<11} median {median:8.1f} ms  (min {fastest:.1f}, first {first:.1f}, "
            f"n={len(values)}){verdict}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lines", type=int, default=40_000)
    args = parser.parse_args()
    text = generate_workflow(args.lines)
    # The edit: break one edge target in the middle of the file.
    lines = text.splitlines()
    middle = next(
        i for i in range(len(lines) // 2, len(lines)) if lines[i].strip().startswith("next: [")
    )
    lines[middle] = lines[middle].replace("next: [", "next: [missing_")
    edited = "\n".join(lines) + "\n"
    print(f"file: {len(text.splitlines())} lines, {len(text) / 1e6:.1f} MB; runs: {args.runs}")

    from victor_lsp.server import DEBOUNCE_SECONDS

    ours = Bench("victor_lsp", [sys.executable, "-m", "victor_lsp"], {"victor": {}})
    report(
        f"victor_lsp (edit figure excludes the {DEBOUNCE_SECONDS * 1000:.0f} ms debounce)",
        await measure(ours, text, edited, args.runs, DEBOUNCE_SECONDS),
        {"open": 300, "edit": 150, "completion": 50, "hover": 50},
    )
    if YAML_LS.exists():
        settings = {
            "yaml": {
                "schemas": {SCHEMA.as_uri(): "*.workflow.yaml"},
                "validate": True,
                "completion": True,
                "hover": True,
            }
        }
        peer = Bench("yaml-language-server", ["node", str(YAML_LS), "--stdio"], settings)
        report(
            "yaml-language-server (our JSON Schema)",
            await measure(peer, text, edited, args.runs, 0.0),
            {},
        )
    else:
        print("\nyaml-language-server: not installed (cd benchmarks/peers && npm ci)")


if __name__ == "__main__":
    asyncio.run(main())
