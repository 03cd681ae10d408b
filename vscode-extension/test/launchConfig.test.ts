import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { completeLaunchConfig, workflowLaunchConfig } from "../src/launchConfig";

describe("completeLaunchConfig", () => {
  it("F5 without launch.json debugs the active workflow file", () => {
    const result = completeLaunchConfig({}, { activeFile: "/w/flows/a.yaml", activeLanguageId: "yaml", workspaceFolder: "/w" });
    assert.ok("config" in result);
    assert.deepEqual(result.config, {
      type: "victor-workflow",
      request: "launch",
      name: "Debug a.yaml",
      program: "/w/flows/a.yaml",
      stopOnEntry: true,
      cwd: "/w",
    });
  });

  it("fails with a clear message when there is no workflow editor", () => {
    const noEditor = completeLaunchConfig({}, {});
    assert.ok("error" in noEditor && /Open a workflow YAML file/.test(noEditor.error));
    const pythonEditor = completeLaunchConfig({}, { activeFile: "/w/x.py", activeLanguageId: "python" });
    assert.ok("error" in pythonEditor);
  });

  it("keeps the user's values and fills only what is missing", () => {
    const result = completeLaunchConfig(
      { type: "victor-workflow", request: "launch", name: "Mine", program: "/w/b.yaml", cwd: "/elsewhere", registry: ["x"] },
      { activeFile: "/w/a.yaml", activeLanguageId: "victor-workflow", workspaceFolder: "/w", registry: ["from.settings"] },
    );
    assert.ok("config" in result);
    assert.equal(result.config["program"], "/w/b.yaml");
    assert.equal(result.config["cwd"], "/elsewhere");
    assert.deepEqual(result.config["registry"], ["x"]);
    assert.equal(result.config["stopOnEntry"], undefined);
  });

  it("takes the registry from settings and the program from the editor when a named config omits them", () => {
    const result = completeLaunchConfig(
      { type: "victor-workflow", request: "launch", name: "Named" },
      { activeFile: "/w/a.workflow.yaml", activeLanguageId: "victor-workflow", registry: ["pkg.handlers"] },
    );
    assert.ok("config" in result);
    assert.equal(result.config["program"], "/w/a.workflow.yaml");
    assert.deepEqual(result.config["registry"], ["pkg.handlers"]);
  });

  it("names the configuration when a named config has no program and no editor", () => {
    const result = completeLaunchConfig({ type: "victor-workflow", request: "launch", name: "Named" }, {});
    assert.ok("error" in result && result.error.includes('"Named"'));
  });

  it("rejects attach requests and non-string programs", () => {
    assert.ok("error" in completeLaunchConfig({ type: "victor-workflow", request: "attach", name: "a" }, {}));
    assert.ok("error" in completeLaunchConfig({ type: "victor-workflow", request: "launch", name: "a", program: 3 }, {}));
  });
});

describe("workflowLaunchConfig", () => {
  it("targets one workflow of a file for the Debug Workflow code lens", () => {
    assert.deepEqual(workflowLaunchConfig("/w/a.yaml", "main", ["pkg"]), {
      type: "victor-workflow",
      request: "launch",
      name: "Debug main",
      program: "/w/a.yaml",
      workflow: "main",
      registry: ["pkg"],
      stopOnEntry: false,
    });
    assert.equal(workflowLaunchConfig("/w/a.yaml", undefined, [])["workflow"], undefined);
  });
});
