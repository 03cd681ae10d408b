/**
 * Names shared by package.json and the code: command ids, the debug type, the language id
 * and the settings section. Pure constants; must not import `vscode`.
 */

export const LANGUAGE_ID = "victor-workflow";
export const DEBUG_TYPE = "victor-workflow";
export const SETTINGS_SECTION = "victor";
export const LSP_CLIENT_ID = "victor";

export const Commands = {
  runWorkflow: "victor.runWorkflow",
  debugWorkflow: "victor.debugWorkflow",
  traceWorkflow: "victor.traceWorkflow",
  showHistory: "victor.showHistory",
  validateWorkspace: "victor.validateWorkspace",
  restartServer: "victor.restartServer",
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

/** The custom DAP messages used for human-in-the-loop nodes. */
export const HITL_EVENT = "victorHitlRequest";
export const HITL_RESPONSE_REQUEST = "victorHitlResponse";
