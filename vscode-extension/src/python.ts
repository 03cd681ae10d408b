/**
 * Asks the ms-python extension (when installed) for the selected interpreter and resolves the one
 * to use. Thin glue over `interpreter.ts`; must not hold selection rules itself.
 */

import * as os from "node:os";

import * as vscode from "vscode";

import { Interpreter, resolveInterpreter } from "./interpreter";

const PYTHON_EXTENSION_ID = "ms-python.python";

/** The part of the ms-python API we use (the `environments` API, stable since 2023). */
interface PythonEnvironmentsApi {
  readonly environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { readonly path: string };
    resolveEnvironment(
      environment: { readonly path: string } | string,
    ): Promise<{ readonly executable: { readonly uri?: vscode.Uri } } | undefined>;
    readonly onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  /** Older API. */
  readonly settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
  };
}

async function pythonApi(): Promise<PythonEnvironmentsApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonEnvironmentsApi>(PYTHON_EXTENSION_ID);
  if (extension === undefined) {
    return undefined;
  }
  try {
    return extension.isActive ? extension.exports : await extension.activate();
  } catch {
    return undefined;
  }
}

async function pythonExtensionInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
  const api = await pythonApi();
  if (api === undefined) {
    return undefined;
  }
  try {
    if (api.environments !== undefined) {
      const active = api.environments.getActiveEnvironmentPath(resource);
      const resolved = await api.environments.resolveEnvironment(active);
      // Conda and similar environments report a folder as `path`; the executable is what we run.
      return resolved?.executable.uri?.fsPath ?? active.path;
    }
    return api.settings?.getExecutionDetails(resource).execCommand?.[0];
  } catch {
    return undefined;
  }
}

/** The interpreter for the servers and the CLI, with where it came from (for messages). */
export async function currentInterpreter(resource?: vscode.Uri): Promise<Interpreter> {
  const folder = resource ? vscode.workspace.getWorkspaceFolder(resource) : vscode.workspace.workspaceFolders?.[0];
  const configured = vscode.workspace.getConfiguration("victor", resource).get<string>("python.path");
  return resolveInterpreter({
    configuredPath: configured,
    pythonExtensionPath: configured?.trim() ? undefined : await pythonExtensionInterpreter(resource),
    workspaceFolder: folder?.uri.fsPath,
    homeDir: os.homedir(),
  });
}

/** Calls `listener` when the Python extension's selected interpreter changes. */
export async function onPythonInterpreterChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  const api = await pythonApi();
  const event = api?.environments?.onDidChangeActiveEnvironmentPath;
  return event ? event(() => listener()) : undefined;
}

export function describeInterpreter(interpreter: Interpreter): string {
  const from = {
    setting: "setting victor.python.path",
    "python-extension": "the Python extension's selected interpreter",
    default: "default",
  }[interpreter.source];
  return `${interpreter.path} (${from})`;
}
