/**
 * Entry point: wires the language client, the debugger and the commands together.
 * Holds no logic of its own.
 */

import * as vscode from "vscode";

import { WorkflowLanguageClient } from "./client";
import { registerCommands } from "./commands";
import { registerDebugger } from "./debug";
import { onPythonInterpreterChange } from "./python";

let languageClient: WorkflowLanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("Victor Language Server");
  const client = new WorkflowLanguageClient(output);
  languageClient = client;
  context.subscriptions.push(
    output,
    client,
    ...registerCommands(context, output, client),
    ...registerDebugger(output),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("victor.python.path")) {
        void client.restartIfRunning();
      }
    }),
  );
  void onPythonInterpreterChange(() => {
    const configured = vscode.workspace.getConfiguration("victor").get<string>("python.path");
    if (!configured?.trim()) {
      void client.restartIfRunning();
    }
  }).then((subscription) => subscription && context.subscriptions.push(subscription));
  client.startForOpenDocuments();
}

export async function deactivate(): Promise<void> {
  await languageClient?.stop();
  languageClient = undefined;
}
