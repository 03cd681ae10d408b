/**
 * Argument vectors for the `victor workflow ...` CLI and the two servers, run through the chosen
 * interpreter (`python -m engine.cli`, `python -m victor_lsp`, `python -m victor_dap`) so the
 * editor always uses the same installation. Pure; must not import `vscode`.
 */

export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
}

const CLI_MODULE = "engine.cli";

export function languageServerProcess(python: string): ProcessSpec {
  return { command: python, args: ["-m", "victor_lsp"] };
}

export function debugAdapterProcess(python: string): ProcessSpec {
  return { command: python, args: ["-m", "victor_dap"] };
}

function cli(python: string, args: readonly string[]): ProcessSpec {
  return { command: python, args: ["-m", CLI_MODULE, "workflow", ...args] };
}

/** What the editor adds to a CLI call: the target workflow and the `victor.*` settings. */
export interface CliOptions {
  readonly workflowName?: string | undefined;
  readonly registry?: readonly string[] | undefined;
  readonly stageLibraries?: readonly string[] | undefined;
}

function repeated(flag: string, values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => [flag, value]);
}

function nameOption(workflowName: string | undefined): string[] {
  return workflowName ? ["-n", workflowName] : [];
}

export function runCommand(python: string, file: string, options: CliOptions = {}): ProcessSpec {
  return cli(python, ["run", file, ...nameOption(options.workflowName), ...repeated("--registry", options.registry)]);
}

export function traceCommand(python: string, file: string, outputHtml: string, options: CliOptions = {}): ProcessSpec {
  return cli(python, [
    "trace",
    file,
    ...nameOption(options.workflowName),
    ...repeated("--registry", options.registry),
    "-f",
    "html",
    "-o",
    outputHtml,
  ]);
}

export function historyCommand(python: string, workflowName?: string): ProcessSpec {
  return cli(python, ["history", ...(workflowName ? ["-w", workflowName] : [])]);
}

/**
 * One `validate` invocation per batch so a large workspace never exceeds the OS limit on
 * command-line length.
 */
export function validateCommands(
  python: string,
  files: readonly string[],
  options: CliOptions = {},
  batchSize = 200,
): ProcessSpec[] {
  const settings = [...repeated("--registry", options.registry), ...repeated("--stages", options.stageLibraries)];
  const batches: ProcessSpec[] = [];
  for (let start = 0; start < files.length; start += batchSize) {
    batches.push(cli(python, ["validate", ...settings, ...files.slice(start, start + batchSize)]));
  }
  return batches;
}

/** A copy-pasteable rendering for logs (POSIX shell quoting). */
export function displayCommand(spec: ProcessSpec): string {
  return [spec.command, ...spec.args].map(shellQuote).join(" ");
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
