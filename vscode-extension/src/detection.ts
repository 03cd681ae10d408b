/**
 * Decides cheaply whether an open document is a Victor workflow file, so the language server is
 * started only for workflow YAML and not for every YAML file. Pure; must not import `vscode`.
 * It looks at top-level keys only; validating the file is the language server's job.
 */

import { LANGUAGE_ID } from "./ids";

/** Top-level keys of the three file shapes: workflow files, node libraries, stage libraries. */
const WORKFLOW_TOP_LEVEL_KEYS = new Set(["workflows", "nodes", "stage_templates", "override_presets"]);

/** Only the head of a big file is scanned; the top-level shape shows early. */
const SCAN_LIMIT = 64 * 1024;

const KEY_LINE = /^(\s*)(?:-\s+)?["']?([A-Za-z_$][\w$.-]*)["']?\s*:(?:\s|$)/;

/**
 * True for the shapes Victor accepts: a top-level `workflows:` / `nodes:` / `stage_templates:` /
 * `override_presets:` key, or a bare map of workflows (a top-level key whose body has `nodes:`).
 */
export function looksLikeWorkflowYaml(text: string): boolean {
  let childIndent: number | undefined;
  for (const rawLine of text.slice(0, SCAN_LIMIT).split(/\r?\n/)) {
    const line = rawLine.replace(/\t/g, "    ");
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed === "---" || trimmed.startsWith("%")) {
      continue;
    }
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      const match = KEY_LINE.exec(line);
      if (match?.[2] !== undefined && WORKFLOW_TOP_LEVEL_KEYS.has(match[2])) {
        return true;
      }
      childIndent = undefined;
      continue;
    }
    childIndent ??= indent;
    if (indent === childIndent) {
      const match = KEY_LINE.exec(line);
      if (match?.[2] === "nodes") {
        return true;
      }
    }
  }
  return false;
}

/** Whether the language server should serve (and therefore be started for) this document. */
export function isWorkflowDocument(languageId: string, text: string): boolean {
  if (languageId === LANGUAGE_ID) {
    return true;
  }
  return languageId === "yaml" && looksLikeWorkflowYaml(text);
}
