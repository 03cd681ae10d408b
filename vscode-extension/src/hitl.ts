/**
 * Human-in-the-loop answers in debug sessions: maps the adapter's `victorHitlRequest` event body
 * to a UI spec (quick pick or input box), and the user's answer to the `victorHitlResponse`
 * arguments. Pure; must not import `vscode` (the caller shows the UI).
 * It does not decide what an answer means for the workflow; the adapter does.
 */

import { isRecord } from "./settings";

export type HitlType = "approval" | "input" | "review" | "choice" | "confirmation";

export interface HitlRequest {
  readonly requestId: string;
  readonly nodeId: string;
  readonly hitlType: string;
  readonly prompt: string;
  readonly choices: readonly string[];
  readonly defaultValue?: unknown;
  readonly timeoutSeconds?: number;
}

export interface HitlResponse {
  readonly requestId: string;
  readonly approved: boolean;
  readonly value?: unknown;
  readonly reason?: string;
}

export interface PickItem {
  readonly label: string;
  readonly description?: string;
  readonly approved: boolean;
  readonly value?: unknown;
}

export interface QuickPickSpec {
  readonly kind: "quickPick";
  readonly title: string;
  readonly placeholder: string;
  readonly items: readonly PickItem[];
  /** Index in `items` of the entry to pre-select. */
  readonly activeIndex: number;
}

export interface InputBoxSpec {
  readonly kind: "inputBox";
  readonly title: string;
  readonly prompt: string;
  readonly value: string;
  /** When the default is not a string, typed JSON (numbers, lists...) is sent back parsed. */
  readonly parseJson: boolean;
}

export type HitlUiSpec = QuickPickSpec | InputBoxSpec;

export const DISMISSED_REASON = "dismissed in the editor";

/** Validates an event body; returns an error message naming what is wrong instead of throwing. */
export function parseHitlRequest(body: unknown): HitlRequest | { error: string } {
  if (!isRecord(body)) {
    return { error: "victorHitlRequest body is not an object" };
  }
  const { requestId, nodeId, hitlType, prompt, choices, defaultValue, timeoutSeconds } = body;
  if (typeof requestId !== "string" || requestId === "") {
    return { error: "victorHitlRequest has no requestId" };
  }
  const choiceList = Array.isArray(choices)
    ? choices.filter((c) => c !== null && c !== undefined).map((c) => (typeof c === "string" ? c : JSON.stringify(c)))
    : [];
  return {
    requestId,
    nodeId: typeof nodeId === "string" ? nodeId : "",
    hitlType: typeof hitlType === "string" ? hitlType : "",
    prompt: typeof prompt === "string" ? prompt : "",
    choices: choiceList,
    ...(defaultValue !== undefined ? { defaultValue } : {}),
    ...(typeof timeoutSeconds === "number" && timeoutSeconds > 0 ? { timeoutSeconds } : {}),
  };
}

function titleOf(request: HitlRequest): string {
  const node = request.nodeId ? `Workflow input needed: ${request.nodeId}` : "Workflow input needed";
  return request.timeoutSeconds !== undefined ? `${node} (times out in ${request.timeoutSeconds}s)` : node;
}

function stringifyDefault(value: unknown): string {
  if (value === undefined || value === null) {
    return "";
  }
  return typeof value === "string" ? value : JSON.stringify(value, null, 0);
}

/** Quick pick for approval/confirmation/choice, input box for input/review (and unknown types without choices). */
export function hitlUiSpec(request: HitlRequest): HitlUiSpec {
  const title = titleOf(request);
  const placeholder = request.prompt || "Choose an answer";
  switch (request.hitlType) {
    case "approval":
      return yesNo(title, placeholder, "Approve", "Reject", request.defaultValue);
    case "confirmation":
      return yesNo(title, placeholder, "Yes", "No", request.defaultValue);
    case "input":
    case "review":
      return inputBox(title, request);
    case "choice":
    default:
      if (request.choices.length > 0) {
        const items = request.choices.map((choice) => ({ label: choice, approved: true, value: choice }));
        const defaultIndex = request.choices.indexOf(stringifyDefault(request.defaultValue));
        return { kind: "quickPick", title, placeholder, items, activeIndex: Math.max(defaultIndex, 0) };
      }
      return inputBox(title, request);
  }
}

function yesNo(title: string, placeholder: string, yes: string, no: string, defaultValue: unknown): QuickPickSpec {
  const defaultIsNo = defaultValue === false || (typeof defaultValue === "string" && /^(no|reject|false|n)$/i.test(defaultValue));
  return {
    kind: "quickPick",
    title,
    placeholder,
    items: [
      { label: yes, approved: true, value: true },
      { label: no, approved: false, value: false },
    ],
    activeIndex: defaultIsNo ? 1 : 0,
  };
}

function inputBox(title: string, request: HitlRequest): InputBoxSpec {
  const defaultValue = request.defaultValue;
  return {
    kind: "inputBox",
    title,
    prompt: request.prompt || (request.hitlType === "review" ? "Review and edit the value" : "Enter a value"),
    value: stringifyDefault(defaultValue),
    parseJson: defaultValue !== undefined && defaultValue !== null && typeof defaultValue !== "string",
  };
}

/** The response for a quick pick answer; `undefined` means the user dismissed it. */
export function responseFromPick(request: HitlRequest, picked: PickItem | undefined): HitlResponse {
  if (picked === undefined) {
    return { requestId: request.requestId, approved: false, reason: DISMISSED_REASON };
  }
  if (!picked.approved) {
    return { requestId: request.requestId, approved: false, value: picked.value, reason: `${picked.label} chosen in the editor` };
  }
  return { requestId: request.requestId, approved: true, value: picked.value };
}

/** The response for an input box answer; `undefined` means the user dismissed it. */
export function responseFromInput(spec: InputBoxSpec, request: HitlRequest, text: string | undefined): HitlResponse {
  if (text === undefined) {
    return { requestId: request.requestId, approved: false, reason: DISMISSED_REASON };
  }
  if (spec.parseJson) {
    try {
      return { requestId: request.requestId, approved: true, value: JSON.parse(text) as unknown };
    } catch {
      // Not JSON: the text itself is the answer; the adapter validates it.
    }
  }
  return { requestId: request.requestId, approved: true, value: text };
}
