import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DEFAULT_PYTHON, resolveInterpreter } from "../src/interpreter";

describe("resolveInterpreter", () => {
  it("prefers victor.python.path over the Python extension", () => {
    const result = resolveInterpreter({ configuredPath: "/opt/py/bin/python", pythonExtensionPath: "/usr/bin/python3.12" });
    assert.deepEqual(result, { path: "/opt/py/bin/python", source: "setting" });
  });

  it("uses the Python extension's interpreter when the setting is empty or blank", () => {
    for (const configuredPath of [undefined, "", "   "]) {
      const result = resolveInterpreter({ configuredPath, pythonExtensionPath: "/home/u/.venv/bin/python" });
      assert.deepEqual(result, { path: "/home/u/.venv/bin/python", source: "python-extension" });
    }
  });

  it("falls back to python3 when nothing is configured", () => {
    assert.deepEqual(resolveInterpreter({}), { path: DEFAULT_PYTHON, source: "default" });
    assert.deepEqual(resolveInterpreter({ pythonExtensionPath: " " }), { path: "python3", source: "default" });
  });

  it("anchors relative paths and ${workspaceFolder} at the workspace folder", () => {
    assert.equal(resolveInterpreter({ configuredPath: ".venv/bin/python", workspaceFolder: "/w/proj" }).path, "/w/proj/.venv/bin/python");
    assert.equal(
      resolveInterpreter({ configuredPath: "${workspaceFolder}/.venv/bin/python", workspaceFolder: "/w/proj" }).path,
      "/w/proj/.venv/bin/python",
    );
  });

  it("expands ~ and leaves bare command names for PATH lookup", () => {
    assert.equal(resolveInterpreter({ configuredPath: "~/venvs/v/bin/python", homeDir: "/home/u" }).path, "/home/u/venvs/v/bin/python");
    assert.equal(resolveInterpreter({ configuredPath: "python3.12", workspaceFolder: "/w" }).path, "python3.12");
    assert.equal(resolveInterpreter({ configuredPath: "C:\\Python312\\python.exe", workspaceFolder: "/w" }).path, "C:\\Python312\\python.exe");
  });
});
