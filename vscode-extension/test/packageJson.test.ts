import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { Commands, DEBUG_TYPE, LANGUAGE_ID } from "../src/ids";

const root = path.resolve(__dirname, "..", "..");

interface Property {
  type?: string;
  description?: string;
  markdownDescription?: string;
}
interface Debugger {
  type: string;
  configurationAttributes: { launch: { properties: Record<string, Property>; required: string[] } };
  initialConfigurations: Record<string, unknown>[];
  configurationSnippets: { label: string; body: Record<string, unknown> }[];
}
interface Manifest {
  main: string;
  activationEvents: string[];
  contributes: {
    languages: { id: string; filenamePatterns: string[] }[];
    commands: { command: string }[];
    breakpoints: { language: string }[];
    debuggers: Debugger[];
    yamlValidation: { fileMatch: string[]; url: string }[];
    configuration: { properties: Record<string, Property> };
  };
}

const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as Manifest;
const debuggerContribution = manifest.contributes.debuggers[0];
assert.ok(debuggerContribution, "package.json has no debugger contribution");
const launchProperties = debuggerContribution.configurationAttributes.launch.properties;
const CONFIG_KEYS = new Set(["type", "request", "name"]);

describe("package.json", () => {
  it("contributes exactly the commands the code registers", () => {
    assert.deepEqual(manifest.contributes.commands.map((c) => c.command).sort(), Object.values(Commands).sort());
  });

  it("activates only on workflow files, the debug type and commands, never on all YAML", () => {
    for (const event of manifest.activationEvents) {
      assert.ok(event !== "*" && event !== "onLanguage:yaml" && event !== "onStartupFinished", `too broad: ${event}`);
    }
    assert.ok(manifest.activationEvents.includes(`onLanguage:${LANGUAGE_ID}`));
    assert.ok(manifest.activationEvents.includes(`onDebugResolve:${DEBUG_TYPE}`));
  });

  it("declares the victor-workflow language and breakpoints for YAML", () => {
    const language = manifest.contributes.languages.find((l) => l.id === LANGUAGE_ID);
    assert.ok(language?.filenamePatterns.includes("*.workflow.yaml"));
    assert.deepEqual(manifest.contributes.breakpoints.map((b) => b.language).sort(), ["victor-workflow", "yaml"]);
  });

  it("documents every launch attribute with a type and a description", () => {
    assert.equal(debuggerContribution.type, DEBUG_TYPE);
    assert.deepEqual(debuggerContribution.configurationAttributes.launch.required, ["program"]);
    for (const [name, property] of Object.entries(launchProperties)) {
      assert.ok(property.type, `${name} has no type`);
      assert.ok(property.description && property.description.length > 10, `${name} has no description`);
    }
  });

  it("initial configurations and snippets use only declared attributes", () => {
    const bodies = [...debuggerContribution.initialConfigurations, ...debuggerContribution.configurationSnippets.map((s) => s.body)];
    assert.ok(bodies.length >= 2);
    for (const body of bodies) {
      assert.equal(body["type"], DEBUG_TYPE);
      assert.equal(body["request"], "launch");
      for (const key of Object.keys(body)) {
        assert.ok(CONFIG_KEYS.has(key) || key in launchProperties, `unknown launch attribute ${key}`);
      }
    }
  });

  it("has the settings the language server reads, with the client id's trace setting", () => {
    const settings = manifest.contributes.configuration.properties;
    for (const key of ["registry", "stageLibraries", "historyPath", "checks", "python.path", "trace.server"]) {
      assert.ok(`victor.${key}` in settings, `victor.${key} missing`);
    }
  });

  it("points yamlValidation at the generated schema copy, which the package includes", () => {
    const [validation] = manifest.contributes.yamlValidation;
    assert.equal(validation?.url, "./schema/workflow.schema.json");
    assert.ok(validation?.fileMatch.includes("*.workflow.yaml"));
    const ignore = readFileSync(path.join(root, ".vscodeignore"), "utf8").split(/\r?\n/);
    assert.ok(ignore.includes("!schema/**"));
    assert.ok(ignore.includes(`!${manifest.main.replace(/^\.\//, "")}`));
  });
});

// ci.sh exports victor_dap.launch_args.LAUNCH_ARGUMENT_DOCS here when a Python with the project is available.
const exported = path.join(root, "out", "launch-args.json");
describe("launch arguments of the adapter", () => {
  it("match configurationAttributes in names and JSON types", { skip: existsSync(exported) ? false : `${exported} not generated` }, () => {
    const docs = JSON.parse(readFileSync(exported, "utf8")) as Record<string, [string, string]>;
    assert.deepEqual(Object.keys(launchProperties).sort(), Object.keys(docs).sort());
    for (const [name, [type]] of Object.entries(docs)) {
      assert.equal(launchProperties[name]?.type, type, `type of ${name}`);
    }
  });
});
