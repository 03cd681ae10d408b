/**
 * Debugger glue: fills launch configurations, starts `python -m victor_dap`, and answers the
 * adapter's human-in-the-loop requests with a quick pick or an input box.
 * Must not interpret workflows; the mapping rules live in `launchConfig.ts` and `hitl.ts`.
 */

import * as vscode from "vscode";

import { debugAdapterProcess } from "./cli";
import { HitlRequest, hitlUiSpec, InputBoxSpec, parseHitlRequest, PickItem, QuickPickSpec, responseFromInput, responseFromPick } from "./hitl";
import { DEBUG_TYPE, HITL_EVENT, HITL_RESPONSE_REQUEST, SETTINGS_SECTION } from "./ids";
import { completeLaunchConfig } from "./launchConfig";
import { currentInterpreter, describeInterpreter } from "./python";
import { serverSettings } from "./settings";

class WorkflowConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [{ type: DEBUG_TYPE, request: "launch", name: "Debug current workflow", program: "${file}", stopOnEntry: true }];
  }

  resolveDebugConfiguration(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.ProviderResult<vscode.DebugConfiguration> {
    const editor = vscode.window.activeTextEditor;
    const document = editor?.document;
    const { settings } = serverSettings(vscode.workspace.getConfiguration(SETTINGS_SECTION, folder?.uri));
    const resolution = completeLaunchConfig(config, {
      activeFile: document?.uri.scheme === "file" ? document.uri.fsPath : undefined,
      activeLanguageId: document?.languageId,
      workspaceFolder: (folder ?? vscode.workspace.workspaceFolders?.[0])?.uri.fsPath,
      registry: settings.registry,
    });
    if ("error" in resolution) {
      void vscode.window.showErrorMessage(resolution.error);
      return undefined; // Aborts the launch.
    }
    return resolution.config;
  }
}

class WorkflowAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly output: vscode.OutputChannel) {}

  async createDebugAdapterDescriptor(session: vscode.DebugSession): Promise<vscode.DebugAdapterDescriptor> {
    const interpreter = await currentInterpreter(session.workspaceFolder?.uri);
    const adapter = debugAdapterProcess(interpreter.path);
    this.output.appendLine(`Debug adapter: ${adapter.command} ${adapter.args.join(" ")} with ${describeInterpreter(interpreter)}`);
    const cwd = session.workspaceFolder?.uri.fsPath;
    return new vscode.DebugAdapterExecutable(adapter.command, [...adapter.args], {
      ...(cwd !== undefined ? { cwd } : {}),
      env: { PYTHONUNBUFFERED: "1" },
    });
  }
}

async function askQuickPick(spec: QuickPickSpec, timeout: vscode.CancellationToken): Promise<PickItem | undefined> {
  const items = spec.items.map((item) => ({
    label: item.label,
    ...(item.description !== undefined ? { description: item.description } : {}),
    item,
  }));
  const pick = vscode.window.createQuickPick<(typeof items)[number]>();
  pick.title = spec.title;
  pick.placeholder = spec.placeholder;
  pick.items = items;
  pick.ignoreFocusOut = true;
  const active = items[spec.activeIndex];
  if (active !== undefined) {
    pick.activeItems = [active];
  }
  return new Promise((resolve) => {
    let answered = false;
    const finish = (value: PickItem | undefined): void => {
      if (!answered) {
        answered = true;
        resolve(value);
        pick.dispose();
      }
    };
    pick.onDidAccept(() => finish(pick.selectedItems[0]?.item ?? pick.activeItems[0]?.item));
    pick.onDidHide(() => finish(undefined));
    timeout.onCancellationRequested(() => finish(undefined));
    pick.show();
  });
}

async function askInput(spec: InputBoxSpec, timeout: vscode.CancellationToken): Promise<string | undefined> {
  return vscode.window.showInputBox(
    { title: spec.title, prompt: spec.prompt, value: spec.value, ignoreFocusOut: true },
    timeout,
  );
}

/**
 * Shows one HITL request at a time (a second quick pick would hide the first and count as a
 * dismissal) and sends the answer back unless the adapter's own timeout has already passed or
 * the session has ended; an ended session's open prompt is closed.
 */
class HitlResponder implements vscode.Disposable {
  private queue: Promise<void> = Promise.resolve();
  private readonly openPrompts = new Map<string, vscode.CancellationTokenSource>();
  private readonly endedSessions = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly output: vscode.OutputChannel) {
    this.subscription = vscode.debug.onDidTerminateDebugSession((session) => {
      this.endedSessions.add(session.id);
      this.openPrompts.get(session.id)?.cancel();
    });
  }

  handle(event: vscode.DebugSessionCustomEvent): void {
    if (event.session.type !== DEBUG_TYPE || event.event !== HITL_EVENT) {
      return;
    }
    const request = parseHitlRequest(event.body);
    if ("error" in request) {
      this.output.appendLine(`Ignored a HITL request from the debug adapter: ${request.error}`);
      return;
    }
    this.queue = this.queue
      .then(() => this.answer(event.session, request))
      .catch((error: unknown) => {
        this.output.appendLine(`Answering HITL request ${request.requestId} failed: ${String(error)}`);
      });
  }

  private async answer(session: vscode.DebugSession, request: HitlRequest): Promise<void> {
    if (this.endedSessions.has(session.id)) {
      return;
    }
    const closed = new vscode.CancellationTokenSource();
    this.openPrompts.set(session.id, closed);
    const timer =
      request.timeoutSeconds !== undefined ? setTimeout(() => closed.cancel(), request.timeoutSeconds * 1000) : undefined;
    try {
      const spec = hitlUiSpec(request);
      const response =
        spec.kind === "quickPick"
          ? responseFromPick(request, await askQuickPick(spec, closed.token))
          : responseFromInput(spec, request, await askInput(spec, closed.token));
      if (closed.token.isCancellationRequested) {
        this.output.appendLine(
          `HITL request ${request.requestId} (${request.nodeId}) closed unanswered (timeout or end of session); the adapter applies the node's fallback.`,
        );
        return;
      }
      await session.customRequest(HITL_RESPONSE_REQUEST, response);
    } finally {
      if (timer !== undefined) {
        clearTimeout(timer);
      }
      this.openPrompts.delete(session.id);
      closed.dispose();
    }
  }

  dispose(): void {
    this.subscription.dispose();
    for (const prompt of this.openPrompts.values()) {
      prompt.cancel();
    }
  }
}

export function registerDebugger(output: vscode.OutputChannel): vscode.Disposable[] {
  const hitl = new HitlResponder(output);
  return [
    hitl,
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new WorkflowConfigurationProvider()),
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      { provideDebugConfigurations: () => new WorkflowConfigurationProvider().provideDebugConfigurations() },
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new WorkflowAdapterFactory(output)),
    vscode.debug.onDidReceiveDebugSessionCustomEvent((event) => hitl.handle(event)),
  ];
}
