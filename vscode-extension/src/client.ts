/**
 * Starts, stops and restarts the language client for `python -m victor_lsp`. Started lazily, the
 * first time a workflow document is open, so plain YAML users never pay for a Python process.
 * Must not hold language features: every feature comes from the server.
 */

import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

import { languageServerProcess } from "./cli";
import { isWorkflowDocument } from "./detection";
import { LANGUAGE_ID, LSP_CLIENT_ID, SETTINGS_SECTION } from "./ids";
import { currentInterpreter, describeInterpreter } from "./python";
import { serverSettings } from "./settings";

export class WorkflowLanguageClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly output: vscode.OutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((document) => this.startIfWorkflow(document)),
      vscode.workspace.onDidChangeTextDocument((event) => this.startIfWorkflow(event.document)),
    );
  }

  /** Starts the server now if a workflow document is already open. */
  startForOpenDocuments(): void {
    for (const document of vscode.workspace.textDocuments) {
      this.startIfWorkflow(document);
    }
  }

  private startIfWorkflow(document: vscode.TextDocument): void {
    if (this.client !== undefined || this.starting !== undefined) {
      return;
    }
    if (document.languageId !== LANGUAGE_ID && document.languageId !== "yaml") {
      return;
    }
    if (isWorkflowDocument(document.languageId, document.getText())) {
      void this.start();
    }
  }

  async start(): Promise<void> {
    if (this.starting === undefined) {
      this.starting = this.doStart().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.client !== undefined) {
      return;
    }
    const interpreter = await currentInterpreter();
    const server = languageServerProcess(interpreter.path);
    const { settings, warnings } = serverSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION));
    warnings.forEach((warning) => this.output.appendLine(`[settings] ${warning}`));
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const serverOptions: ServerOptions = {
      command: server.command,
      args: [...server.args],
      transport: TransportKind.stdio,
      options: { ...(cwd !== undefined ? { cwd } : {}), env: { ...process.env, PYTHONUNBUFFERED: "1" } },
    };
    const clientOptions: LanguageClientOptions = {
      // Plain YAML is included because workflows live in ordinary .yaml files; the server ignores
      // YAML that is not a workflow, and the server is only started once a workflow is open.
      documentSelector: [
        { language: LANGUAGE_ID },
        { language: "yaml", scheme: "file" },
        { language: "yaml", scheme: "untitled" },
      ],
      initializationOptions: settings,
      synchronize: { configurationSection: SETTINGS_SECTION },
      outputChannel: this.output,
      traceOutputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
    };
    this.output.appendLine(`Starting ${server.command} ${server.args.join(" ")} with ${describeInterpreter(interpreter)}`);
    // The id "victor" makes the client read the `victor.trace.server` setting.
    const client = new LanguageClient(LSP_CLIENT_ID, "Victor Language Server", serverOptions, clientOptions);
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.client = undefined;
      await client.dispose().catch(() => undefined);
      const message =
        `The Victor language server did not start with ${describeInterpreter(interpreter)}: ${String(error)}. ` +
        "Install the Victor workflow tools into that interpreter (pip install victor-workflow-tools) or set victor.python.path.";
      this.output.appendLine(message);
      const choice = await vscode.window.showErrorMessage(message, "Open Settings", "Show Log");
      if (choice === "Open Settings") {
        await vscode.commands.executeCommand("workbench.action.openSettings", "victor.python.path");
      } else if (choice === "Show Log") {
        this.output.show(true);
      }
    }
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      await client.stop().catch((error: unknown) => this.output.appendLine(`Stopping the server failed: ${String(error)}`));
    }
  }

  /** Stops the server (if running) and starts it again with the current interpreter and settings. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Restarts only when running, e.g. after the interpreter setting changed. */
  async restartIfRunning(): Promise<void> {
    if (this.client !== undefined) {
      await this.restart();
    }
  }

  dispose(): void {
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
    void this.stop();
  }
}
