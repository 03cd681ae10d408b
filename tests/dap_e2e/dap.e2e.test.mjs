// End-to-end: `python -m victor_dap` over stdio driven by @vscode/debugadapter-testsupport's
// DebugClient (the client VS Code's own adapters are tested with).
// Environment: VICTOR_PYTHON (interpreter; default `python3`), VICTOR_REPO (repo root for PYTHONPATH).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import testsupport from "@vscode/debugadapter-testsupport";

const { DebugClient } = testsupport;
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = process.env.VICTOR_REPO || path.resolve(here, "..", "..");
const python = process.env.VICTOR_PYTHON || "python3";

const WORKFLOW = `workflows:
  demo:
    nodes:
      - id: prepare                # @prepare
        type: transform
        transform: |
          count = 1
          items = [1, 2, 3]
      - id: double
        type: compute
        handler: double            # @double_body
        inputs:
          value: $ctx.count
        output: doubled
      - id: finish                 # @finish
        type: transform
        transform: "count = count + doubled"
`;

const HANDLERS = `def double(node, context, tools):
    return context.inputs["value"] * 2

HANDLERS = {"double": double}
`;

/** 1-based line of the `# @name` marker comment (never hard-coded). */
function markerLine(text, name) {
  const lines = text.split("\n");
  const found = lines.flatMap((l, i) => (new RegExp(`#\\s*@${name}\\b`).test(l) ? [i + 1] : []));
  assert.equal(found.length, 1, `marker @${name}`);
  return found[0];
}

let dir;
let program;
let dc;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "victor-dap-e2e-"));
  program = path.join(dir, "demo.yaml");
  fs.writeFileSync(program, WORKFLOW);
  fs.writeFileSync(path.join(dir, "handlers.py"), HANDLERS);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function startClient() {
  const env = { ...process.env, PYTHONPATH: [repo, process.env.PYTHONPATH || ""].filter(Boolean).join(path.delimiter) };
  // shell: true so the command is exactly `python -m victor_dap` (DebugClient passes one argument).
  dc = new DebugClient(JSON.stringify(python), "-m victor_dap", "victor-workflow", { shell: true, env, cwd: dir });
  dc.defaultTimeout = 15000;
  await dc.start();
}

const launchArgs = () => ({ program, registry: [path.join(dir, "handlers.py")] });

test("hit a breakpoint on a YAML line, step, read variables, evaluate, step back, terminate", async () => {
  await startClient();
  try {
    const bodyLine = markerLine(WORKFLOW, "double_body");
    const nodeLine = bodyLine - 2; // the `- id: double` line the breakpoint binds to
    await dc.hitBreakpoint(launchArgs(), { path: program, line: bodyLine }, { path: program, line: nodeLine }, { path: program, line: nodeLine, verified: true });

    const threads = await dc.threadsRequest();
    const threadId = threads.body.threads[0].id;
    let stack = await dc.stackTraceRequest({ threadId });
    const frameId = stack.body.stackFrames[0].id;
    const scopes = await dc.scopesRequest({ frameId });
    assert.deepEqual(scopes.body.scopes.map((s) => s.name), ["State", "Node", "Execution"]);
    const vars = await dc.variablesRequest({ variablesReference: scopes.body.scopes[0].variablesReference });
    const count = vars.body.variables.find((v) => v.name === "count");
    assert.equal(count.value, "1");
    const items = vars.body.variables.find((v) => v.name === "items");
    assert.equal(items.indexedVariables, 3);

    const evaluated = await dc.evaluateRequest({ expression: "len(items) + count", frameId, context: "repl" });
    assert.equal(evaluated.body.result, "4");

    await Promise.all([dc.nextRequest({ threadId }), dc.assertStoppedLocation("step", { path: program, line: markerLine(WORKFLOW, "finish") })]);
    const doubled = await dc.evaluateRequest({ expression: "doubled", context: "watch" });
    assert.equal(doubled.body.result, "2");

    await Promise.all([dc.stepBackRequest({ threadId }), dc.assertStoppedLocation("step", { path: program, line: nodeLine })]);
    const before = await dc.evaluateRequest({ expression: "doubled", context: "watch" });
    assert.equal(before.body.result, "null");

    await Promise.all([dc.terminateRequest(), dc.waitForEvent("terminated")]);
  } finally {
    await dc.stop();
  }
});

test("a compile error fails the launch with file:line", async () => {
  const broken = path.join(dir, "broken.yaml");
  fs.writeFileSync(broken, "workflows:\n  w:\n    nodes:\n      - id: a\n        type: wizard\n");
  await startClient();
  try {
    await dc.initializeRequest();
    await assert.rejects(dc.launchRequest({ program: broken }), (err) => {
      assert.match(err.message, new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:5:`));
      return true;
    });
  } finally {
    await dc.stop();
  }
});

const TWO_WORKFLOWS = `workflows:
  first:
    nodes:
      - id: shared               # @first_shared
        type: transform
        transform: "a = 1"
  second:
    nodes:
      - id: shared               # @second_shared
        type: transform
        transform: "b = 1"
`;

const OTHER_FILE = `workflows:
  other:
    nodes:
      - id: shared               # @other_shared
        type: transform
        transform: "c = 1"
`;

test("breakpoints in a workflow or file that is not being debugged never stop the run", async () => {
  const two = path.join(dir, "two.yaml");
  const other = path.join(dir, "other.yaml");
  fs.writeFileSync(two, TWO_WORKFLOWS);
  fs.writeFileSync(other, OTHER_FILE);
  await startClient();
  const stops = [];
  dc.on("stopped", (event) => stops.push(event));
  try {
    await dc.initializeRequest();
    // As VS Code does, breakpoints may arrive before the launch is handled.
    const secondLine = markerLine(TWO_WORKFLOWS, "second_shared");
    const early = await dc.setBreakpointsRequest({ source: { path: two }, breakpoints: [{ line: secondLine }] });
    const changed = dc.waitForEvent("breakpoint");
    await dc.launchRequest({ program: two, workflow: "first" });
    const event = await changed;
    assert.equal(event.body.breakpoint.id, early.body.breakpoints[0].id);
    assert.equal(event.body.breakpoint.verified, false);
    assert.match(event.body.breakpoint.message, /workflow 'second'/);

    const late = await dc.setBreakpointsRequest({ source: { path: two }, breakpoints: [{ line: secondLine }] });
    assert.equal(late.body.breakpoints[0].verified, false);
    assert.match(late.body.breakpoints[0].message, /workflow 'second'/);
    const elsewhere = await dc.setBreakpointsRequest({ source: { path: other }, breakpoints: [{ line: markerLine(OTHER_FILE, "other_shared") }] });
    assert.equal(elsewhere.body.breakpoints[0].verified, false);

    await Promise.all([dc.configurationDoneRequest(), dc.waitForEvent("terminated")]);
    assert.deepEqual(stops, []);
  } finally {
    await dc.stop();
  }
});
