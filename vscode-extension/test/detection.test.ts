import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { isWorkflowDocument, looksLikeWorkflowYaml } from "../src/detection";

describe("looksLikeWorkflowYaml", () => {
  it("recognises the three file shapes by their top-level keys", () => {
    assert.ok(looksLikeWorkflowYaml("# header\nworkflows:\n  main:\n    nodes: []\n"));
    assert.ok(looksLikeWorkflowYaml("---\nnodes:\n  - id: a\n"));
    assert.ok(looksLikeWorkflowYaml('version: "1.0"\nstage_templates:\n  s: {}\n'));
    assert.ok(looksLikeWorkflowYaml("override_presets: {}\n"));
  });

  it("recognises a bare map of workflows", () => {
    assert.ok(looksLikeWorkflowYaml("my_flow:\n  description: x\n  nodes:\n    - id: a\n"));
    assert.ok(looksLikeWorkflowYaml("my_flow:\r\n    nodes:\r\n      - id: a\r\n"));
  });

  it("ignores other YAML, including GitHub Actions and Kubernetes files", () => {
    assert.ok(!looksLikeWorkflowYaml("name: CI\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n"));
    assert.ok(!looksLikeWorkflowYaml("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: nodes\n"));
    assert.ok(!looksLikeWorkflowYaml("a:\n  b:\n    nodes: []\n"), "nodes deeper than a workflow body does not count");
    assert.ok(!looksLikeWorkflowYaml("# workflows:\nkey: value\n"));
    assert.ok(!looksLikeWorkflowYaml(""));
  });

  it("decides per language id", () => {
    assert.ok(isWorkflowDocument("victor-workflow", ""));
    assert.ok(isWorkflowDocument("yaml", "workflows:\n"));
    assert.ok(!isWorkflowDocument("yaml", "jobs:\n"));
    assert.ok(!isWorkflowDocument("json", "workflows:\n"));
  });
});

describe("real Victor files", () => {
  const corpus = path.resolve(__dirname, "..", "..", "..", "..", "shared", "corpus", "victor");
  const files = existsSync(corpus) ? readdirSync(corpus).filter((name) => name.endsWith(".yaml")) : [];
  it("detects every corpus file as workflow YAML", { skip: files.length === 0 ? `corpus not found at ${corpus}` : false }, () => {
    for (const name of files) {
      assert.ok(looksLikeWorkflowYaml(readFileSync(path.join(corpus, name), "utf8")), name);
    }
  });
});
