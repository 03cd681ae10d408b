import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  debugAdapterProcess,
  displayCommand,
  historyCommand,
  languageServerProcess,
  runCommand,
  traceCommand,
  validateCommands,
} from "../src/cli";

describe("process specs", () => {
  it("starts both servers as modules of the chosen interpreter", () => {
    assert.deepEqual(languageServerProcess("/v/bin/python"), { command: "/v/bin/python", args: ["-m", "victor_lsp"] });
    assert.deepEqual(debugAdapterProcess("python3"), { command: "python3", args: ["-m", "victor_dap"] });
  });

  it("builds the documented CLI commands", () => {
    assert.deepEqual(runCommand("py", "/w/a.yaml", { workflowName: "main" }).args, [
      "-m", "engine.cli", "workflow", "run", "/w/a.yaml", "-n", "main",
    ]);
    assert.deepEqual(runCommand("py", "/w/a.yaml").args, ["-m", "engine.cli", "workflow", "run", "/w/a.yaml"]);
    assert.deepEqual(traceCommand("py", "/w/a.yaml", "/tmp/r.html", { workflowName: "main" }).args, [
      "-m", "engine.cli", "workflow", "trace", "/w/a.yaml", "-n", "main", "-f", "html", "-o", "/tmp/r.html",
    ]);
    assert.deepEqual(historyCommand("py").args, ["-m", "engine.cli", "workflow", "history"]);
    assert.deepEqual(historyCommand("py", "wf").args.slice(-2), ["-w", "wf"]);
  });

  it("passes the registry and stage library settings as repeated options", () => {
    const options = { workflowName: "main", registry: ["pkg.a", "pkg.b"], stageLibraries: ["s.yaml"] };
    assert.deepEqual(runCommand("py", "/w/a.yaml", options).args.slice(3), [
      "run", "/w/a.yaml", "-n", "main", "--registry", "pkg.a", "--registry", "pkg.b",
    ]);
    assert.deepEqual(traceCommand("py", "/w/a.yaml", "/r.html", options).args.slice(7, 11), ["--registry", "pkg.a", "--registry", "pkg.b"]);
    assert.deepEqual(validateCommands("py", ["/w/a.yaml"], options)[0]?.args.slice(3), [
      "validate", "--registry", "pkg.a", "--registry", "pkg.b", "--stages", "s.yaml", "/w/a.yaml",
    ]);
  });

  it("splits validation of many files into bounded batches that cover every file once", () => {
    const files = Array.from({ length: 450 }, (_, i) => `/w/f${i}.yaml`);
    const batches = validateCommands("py", files, {}, 200);
    assert.deepEqual(batches.map((b) => b.args.length - 4), [200, 200, 50]);
    assert.deepEqual(batches.flatMap((b) => b.args.slice(4)), files);
    assert.deepEqual(validateCommands("py", []), []);
  });

  it("renders a shell-safe display string", () => {
    assert.equal(displayCommand({ command: "py", args: ["run", "my file's.yaml"] }), `py run 'my file'\\''s.yaml'`);
  });
});
