import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { cliEnvironment, serverSettings } from "../src/settings";

describe("serverSettings", () => {
  it("passes well-typed settings through unchanged", () => {
    const { settings, warnings } = serverSettings({
      registry: ["my_pkg.handlers"],
      stageLibraries: ["stages/common.yaml"],
      historyPath: "/tmp/h.db",
      checks: { VW101: false, VW202: true },
      python: { path: "/x" },
    });
    assert.deepEqual(settings, {
      registry: ["my_pkg.handlers"],
      stageLibraries: ["stages/common.yaml"],
      historyPath: "/tmp/h.db",
      checks: { VW101: false, VW202: true },
    });
    assert.deepEqual(warnings, []);
  });

  it("gives defaults for a missing section", () => {
    assert.deepEqual(serverSettings(undefined).settings, { registry: [], stageLibraries: [], historyPath: "", checks: {} });
  });

  it("drops ill-typed values and says which setting was wrong", () => {
    const { settings, warnings } = serverSettings({ registry: "my_pkg", stageLibraries: ["a.yaml", 3, ""], checks: { VW1: "no" }, historyPath: 5 });
    assert.deepEqual(settings, { registry: [], stageLibraries: ["a.yaml"], historyPath: "", checks: {} });
    assert.equal(warnings.length, 4);
    assert.ok(warnings.some((w) => w.includes("victor.registry")));
    assert.ok(warnings.some((w) => w.includes("victor.stageLibraries")));
    assert.ok(warnings.some((w) => w.includes("victor.checks.VW1")));
    assert.ok(warnings.some((w) => w.includes("victor.historyPath")));
  });

  it("passes the history location to the CLI only when configured", () => {
    const base = serverSettings({}).settings;
    assert.deepEqual(cliEnvironment(base), {});
    assert.deepEqual(cliEnvironment({ ...base, historyPath: "postgresql://db/h" }), { VICTOR_HISTORY_URL: "postgresql://db/h" });
  });
});
