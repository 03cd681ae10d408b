/**
 * Chooses the Python interpreter that runs the servers and the CLI.
 * Pure: the caller gathers the inputs (setting, Python extension answer); must not import `vscode`.
 */

import * as path from "node:path";

export type InterpreterSource = "setting" | "python-extension" | "default";

export interface InterpreterInputs {
  /** Value of `victor.python.path` (may be empty, relative, use `~` or `${workspaceFolder}`). */
  readonly configuredPath?: string | undefined;
  /** Executable reported by the ms-python extension, when it is installed and has one. */
  readonly pythonExtensionPath?: string | undefined;
  /** First workspace folder, used to anchor relative paths and `${workspaceFolder}`. */
  readonly workspaceFolder?: string | undefined;
  /** Home directory for `~` expansion. */
  readonly homeDir?: string | undefined;
}

export interface Interpreter {
  readonly path: string;
  readonly source: InterpreterSource;
}

export const DEFAULT_PYTHON = "python3";

/** Setting first, then the Python extension's active interpreter, then `python3` on PATH. */
export function resolveInterpreter(inputs: InterpreterInputs): Interpreter {
  const configured = inputs.configuredPath?.trim();
  if (configured) {
    return { path: expandPath(configured, inputs), source: "setting" };
  }
  const fromExtension = inputs.pythonExtensionPath?.trim();
  if (fromExtension) {
    return { path: fromExtension, source: "python-extension" };
  }
  return { path: DEFAULT_PYTHON, source: "default" };
}

function expandPath(value: string, inputs: InterpreterInputs): string {
  let expanded = value;
  if (inputs.workspaceFolder !== undefined) {
    expanded = expanded.split("${workspaceFolder}").join(inputs.workspaceFolder);
  }
  if (inputs.homeDir !== undefined && (expanded === "~" || /^~[/\\]/.test(expanded))) {
    expanded = inputs.homeDir + expanded.slice(1);
  }
  // A bare command name ("python3.12") is looked up on PATH; only paths with a separator are anchored.
  const hasSeparator = /[/\\]/.test(expanded);
  const absolute = path.posix.isAbsolute(expanded) || path.win32.isAbsolute(expanded);
  if (hasSeparator && !absolute && inputs.workspaceFolder !== undefined) {
    expanded = path.join(inputs.workspaceFolder, expanded);
  }
  return expanded;
}
