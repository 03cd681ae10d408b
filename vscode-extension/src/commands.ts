/**
 * The Victor commands: run / trace / history / validate through the CLI, debug through the
 * debugger, restart the language server. The LSP's code lenses call the first three with
 * `[uri: string, workflowName: string]`. Must not understand workflows: the CLI does the work.
 */

import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";

import * as vscode from "vscode";

import { displayCommand, historyCommand, ProcessSpec, runCommand, traceCommand, validateCommands } from "./cli";
import { WorkflowLanguageClient } from "./client";
import { looksLikeWorkflowYaml } from "./detection";
import { Commands, LANGUAGE_ID, SETTINGS_SECTION } from "./ids";
import { workflowLaunchConfig } from "./launchConfig";
import { currentInterpreter } from "./python";
import { secureReportHtml } from "./reportHtml";
import { cliEnvironment, serverSettings } from "./settings";

interface WorkflowTarget {
  readonly uri: vscode.Uri;
  readonly workflowName: string | undefined;
}

/** Code lens arguments, an explorer/editor Uri, or nothing (the active editor). */
function workflowTarget(uriArgument: unknown, nameArgument: unknown): WorkflowTarget | undefined {
  const workflowName = typeof nameArgument === "string" && nameArgument !== "" ? nameArgument : undefined;
  if (typeof uriArgument === "string") {
    return { uri: vscode.Uri.parse(uriArgument), workflowName };
  }
  if (uriArgument instanceof vscode.Uri) {
    return { uri: uriArgument, workflowName };
  }
  const document = vscode.window.activeTextEditor?.document;
  if (document !== undefined && (document.languageId === LANGUAGE_ID || document.languageId === "yaml")) {
    return { uri: document.uri, workflowName };
  }
  void vscode.window.showErrorMessage("Open a workflow YAML file first (or use the code lens above a workflow).");
  return undefined;
}

/** Saves the document first so the CLI sees what the user sees; only files on disk can run. */
async function fileOf(target: WorkflowTarget): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.uri.toString());
  if (open?.isDirty) {
    await open.save();
  }
  if (target.uri.scheme !== "file") {
    void vscode.window.showErrorMessage(`Save the workflow to a file before running it (${target.uri.toString()}).`);
    return undefined;
  }
  return target.uri.fsPath;
}

function settingsFor(resource: vscode.Uri | undefined): ReturnType<typeof serverSettings>["settings"] {
  return serverSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION, resource)).settings;
}

function cwdFor(resource: vscode.Uri | undefined): string | undefined {
  const folder = resource ? vscode.workspace.getWorkspaceFolder(resource) : vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.fsPath ?? (resource?.scheme === "file" ? path.dirname(resource.fsPath) : undefined);
}

/** Runs the process directly in a terminal (no shell, so no quoting problems on any platform). */
function runInTerminal(name: string, spec: ProcessSpec, resource: vscode.Uri | undefined): void {
  const cwd = cwdFor(resource);
  const terminal = vscode.window.createTerminal({
    name,
    shellPath: spec.command,
    shellArgs: [...spec.args],
    env: cliEnvironment(settingsFor(resource)),
    ...(cwd !== undefined ? { cwd } : {}),
  });
  terminal.show();
}

interface ProcessResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runProcess(spec: ProcessSpec, resource: vscode.Uri | undefined, token?: vscode.CancellationToken): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const cwd = cwdFor(resource);
    const child = execFile(
      spec.command,
      [...spec.args],
      {
        ...(cwd !== undefined ? { cwd } : {}),
        env: { ...process.env, ...cliEnvironment(settingsFor(resource)), PYTHONUNBUFFERED: "1" },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          reject(new Error(`${displayCommand(spec)} could not run: ${error.message}`));
          return;
        }
        resolve({ exitCode: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
    token?.onCancellationRequested(() => child.kill());
  });
}

async function runWorkflow(output: vscode.OutputChannel, uriArgument: unknown, nameArgument: unknown): Promise<void> {
  const target = workflowTarget(uriArgument, nameArgument);
  const file = target && (await fileOf(target));
  if (target === undefined || file === undefined) {
    return;
  }
  const interpreter = await currentInterpreter(target.uri);
  const { registry } = settingsFor(target.uri);
  const spec = runCommand(interpreter.path, file, { workflowName: target.workflowName, registry });
  output.appendLine(`$ ${displayCommand(spec)}`);
  runInTerminal(`Victor: run ${target.workflowName ?? path.basename(file)}`, spec, target.uri);
}

async function debugWorkflow(uriArgument: unknown, nameArgument: unknown): Promise<void> {
  const target = workflowTarget(uriArgument, nameArgument);
  const file = target && (await fileOf(target));
  if (target === undefined || file === undefined) {
    return;
  }
  const folder = vscode.workspace.getWorkspaceFolder(target.uri);
  const config = workflowLaunchConfig(file, target.workflowName, settingsFor(target.uri).registry);
  await vscode.debug.startDebugging(folder, config);
}

async function traceWorkflow(
  context: vscode.ExtensionContext,
  output: vscode.OutputChannel,
  uriArgument: unknown,
  nameArgument: unknown,
): Promise<void> {
  const target = workflowTarget(uriArgument, nameArgument);
  const file = target && (await fileOf(target));
  if (target === undefined || file === undefined) {
    return;
  }
  const label = target.workflowName ?? path.basename(file);
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "victor-trace-"));
  try {
    const reportPath = path.join(directory, "report.html");
    const interpreter = await currentInterpreter(target.uri);
    const { registry } = settingsFor(target.uri);
    const spec = traceCommand(interpreter.path, file, reportPath, { workflowName: target.workflowName, registry });
    output.appendLine(`$ ${displayCommand(spec)}`);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tracing ${label}`, cancellable: true },
      (_progress, token) => runProcess(spec, target.uri, token),
    );
    appendResult(output, result);
    const html = await fs.readFile(reportPath, "utf8").catch(() => undefined);
    if (html === undefined) {
      output.show(true);
      void vscode.window.showErrorMessage(`Tracing ${label} produced no report (exit code ${result.exitCode}); see the Victor output.`);
      return;
    }
    if (result.exitCode !== 0) {
      void vscode.window.showWarningMessage(`The traced run of ${label} failed (exit code ${result.exitCode}); the report shows where.`);
    }
    showReport(context, `Trace: ${label}`, html);
  } catch (error) {
    output.appendLine(String(error));
    void vscode.window.showErrorMessage(`Tracing ${label} failed: ${String(error)}`);
  } finally {
    await fs.rm(directory, { recursive: true, force: true });
  }
}

function showReport(context: vscode.ExtensionContext, title: string, html: string): void {
  const panel = vscode.window.createWebviewPanel("victor.traceReport", title, vscode.ViewColumn.Beside, {
    // Only the report's own inline scripts run (see reportHtml.ts); the CSP blocks everything else.
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [],
  });
  const nonce = crypto.randomBytes(18).toString("base64");
  panel.webview.html = secureReportHtml(html, nonce);
  context.subscriptions.push(panel);
}

function appendResult(output: vscode.OutputChannel, result: ProcessResult): void {
  if (result.stdout) {
    output.append(result.stdout.endsWith("\n") ? result.stdout : `${result.stdout}\n`);
  }
  if (result.stderr) {
    output.append(result.stderr.endsWith("\n") ? result.stderr : `${result.stderr}\n`);
  }
}

async function showHistory(output: vscode.OutputChannel): Promise<void> {
  const resource = vscode.window.activeTextEditor?.document.uri;
  const interpreter = await currentInterpreter(resource);
  const spec = historyCommand(interpreter.path);
  output.appendLine(`$ ${displayCommand(spec)}`);
  runInTerminal("Victor: history", spec, resource);
}

const WORKFLOW_FILES = "**/*.{yaml,yml}";
const NEVER_WORKFLOWS = "**/{node_modules,.git,.github,.venv,venv,.tox,dist,build}/**";
const MAX_FILES = 5000;

async function validateWorkspace(output: vscode.OutputChannel): Promise<void> {
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "Validating workflows", cancellable: true },
    async (_progress, token) => {
      const candidates = await vscode.workspace.findFiles(WORKFLOW_FILES, NEVER_WORKFLOWS, MAX_FILES, token);
      const files: string[] = [];
      for (const uri of candidates) {
        const text = await fs.readFile(uri.fsPath, "utf8").catch(() => "");
        if (uri.fsPath.match(/\.workflow\.ya?ml$/i) || looksLikeWorkflowYaml(text)) {
          files.push(uri.fsPath);
        }
      }
      files.sort();
      output.show(true);
      if (files.length === 0) {
        output.appendLine("No workflow YAML files found in the workspace.");
        return;
      }
      const interpreter = await currentInterpreter();
      let failed = false;
      const { registry, stageLibraries } = settingsFor(undefined);
      for (const spec of validateCommands(interpreter.path, files, { registry, stageLibraries })) {
        if (token.isCancellationRequested) {
          return;
        }
        output.appendLine(`$ ${displayCommand(spec)}`);
        const result = await runProcess(spec, undefined, token);
        appendResult(output, result);
        failed ||= result.exitCode !== 0;
      }
      const summary = `Validated ${files.length} workflow file(s): ${failed ? "problems found (see the Victor output)" : "no errors"}.`;
      output.appendLine(summary);
      if (failed) {
        void vscode.window.showWarningMessage(summary);
      } else {
        void vscode.window.showInformationMessage(summary);
      }
    },
  );
}

export function registerCommands(
  context: vscode.ExtensionContext,
  output: vscode.OutputChannel,
  client: WorkflowLanguageClient,
): vscode.Disposable[] {
  const guarded =
    (name: string, action: (...args: unknown[]) => Promise<void>) =>
    async (...args: unknown[]): Promise<void> => {
      try {
        await action(...args);
      } catch (error) {
        output.appendLine(`${name} failed: ${String(error)}`);
        void vscode.window.showErrorMessage(`${name} failed: ${String(error)}`);
      }
    };
  return [
    vscode.commands.registerCommand(Commands.runWorkflow, guarded("Run Workflow", (uri, name) => runWorkflow(output, uri, name))),
    vscode.commands.registerCommand(Commands.debugWorkflow, guarded("Debug Workflow", (uri, name) => debugWorkflow(uri, name))),
    vscode.commands.registerCommand(
      Commands.traceWorkflow,
      guarded("Trace Workflow", (uri, name) => traceWorkflow(context, output, uri, name)),
    ),
    vscode.commands.registerCommand(Commands.showHistory, guarded("Show History", () => showHistory(output))),
    vscode.commands.registerCommand(Commands.validateWorkspace, guarded("Validate Workspace", () => validateWorkspace(output))),
    vscode.commands.registerCommand(Commands.restartServer, guarded("Restart Language Server", () => client.restart())),
  ];
}
