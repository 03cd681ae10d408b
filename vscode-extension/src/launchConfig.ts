/**
 * Completes a `victor-workflow` launch configuration so F5 works without a launch.json: the
 * program comes from the active editor, the registry from settings. Pure; must not import `vscode`.
 * It never checks the workflow itself; the adapter reports launch errors.
 */

import * as path from "node:path";

import { DEBUG_TYPE, LANGUAGE_ID } from "./ids";

export interface LaunchConfig {
  type: string;
  request: string;
  name: string;
  [key: string]: unknown;
}

export interface LaunchContext {
  /** File system path of the active editor's document, if it is a file. */
  readonly activeFile?: string | undefined;
  readonly activeLanguageId?: string | undefined;
  readonly workspaceFolder?: string | undefined;
  /** `victor.registry` from settings; used when the configuration has none. */
  readonly registry?: readonly string[] | undefined;
}

export type LaunchResolution = { config: LaunchConfig } | { error: string };

function isYamlEditor(context: LaunchContext): boolean {
  return (
    context.activeFile !== undefined &&
    (context.activeLanguageId === "yaml" || context.activeLanguageId === LANGUAGE_ID || /\.ya?ml$/i.test(context.activeFile))
  );
}

/**
 * `config` is what VS Code passes to `resolveDebugConfiguration`: empty (`{}`) when there is no
 * launch.json, otherwise the user's entry.
 */
export function completeLaunchConfig(config: Record<string, unknown>, context: LaunchContext): LaunchResolution {
  const isEmpty = config["type"] === undefined && config["request"] === undefined && config["name"] === undefined;
  const activeYaml = isYamlEditor(context) ? context.activeFile : undefined;
  const completed: LaunchConfig = {
    ...config,
    type: typeof config["type"] === "string" ? config["type"] : DEBUG_TYPE,
    request: typeof config["request"] === "string" ? config["request"] : "launch",
    name:
      typeof config["name"] === "string"
        ? config["name"]
        : `Debug ${activeYaml !== undefined ? path.basename(activeYaml) : "workflow"}`,
  };
  if (completed.request !== "launch") {
    return { error: `Victor workflows support only "request": "launch" (got "${completed.request}").` };
  }
  const program = completed["program"];
  if (program === undefined || program === "") {
    if (activeYaml === undefined) {
      return {
        error: isEmpty
          ? "Open a workflow YAML file and press F5 again, or add a \"victor-workflow\" configuration with a \"program\" to launch.json."
          : `The launch configuration "${completed.name}" has no "program": set it to the workflow YAML file (e.g. "\${file}").`,
      };
    }
    completed["program"] = activeYaml;
  } else if (typeof program !== "string") {
    return { error: `"program" in "${completed.name}" must be the path of a workflow YAML file.` };
  }
  if (isEmpty) {
    completed["stopOnEntry"] ??= true;
  }
  if (completed["registry"] === undefined && context.registry !== undefined && context.registry.length > 0) {
    completed["registry"] = [...context.registry];
  }
  if (completed["cwd"] === undefined && context.workspaceFolder !== undefined) {
    completed["cwd"] = context.workspaceFolder;
  }
  return { config: completed };
}

/** The configuration the Debug Workflow command (and its code lens) starts. */
export function workflowLaunchConfig(file: string, workflowName: string | undefined, registry: readonly string[]): LaunchConfig {
  return {
    type: DEBUG_TYPE,
    request: "launch",
    name: workflowName ? `Debug ${workflowName}` : `Debug ${path.basename(file)}`,
    program: file,
    ...(workflowName ? { workflow: workflowName } : {}),
    ...(registry.length > 0 ? { registry: [...registry] } : {}),
    stopOnEntry: false,
  };
}
