/**
 * Turns the raw `victor` settings section into what the servers and the CLI receive.
 * Pure: takes plain values, returns plain values; must not import `vscode`.
 * It only shapes settings; what they mean is the servers' business.
 */

/** The settings the language server reads (initializationOptions and workspace/configuration). */
export interface ServerSettings {
  readonly registry: string[];
  readonly stageLibraries: string[];
  readonly historyPath: string;
  readonly checks: Record<string, boolean>;
}

/**
 * Keeps only well-typed values so a typo in settings.json never reaches the server as garbage.
 * Returns the sanitized settings and a message for each value that was dropped.
 */
export function serverSettings(raw: unknown): { settings: ServerSettings; warnings: string[] } {
  const section = isRecord(raw) ? raw : {};
  const warnings: string[] = [];
  const stringList = (key: string): string[] => {
    const value = section[key];
    if (value === undefined || value === null) {
      return [];
    }
    if (!Array.isArray(value)) {
      warnings.push(`victor.${key} must be a list of strings; ignored.`);
      return [];
    }
    const strings = value.filter((item): item is string => typeof item === "string" && item.trim() !== "");
    if (strings.length !== value.length) {
      warnings.push(`victor.${key}: entries that are not non-empty strings were ignored.`);
    }
    return strings.map((item) => item.trim());
  };
  const historyValue = section["historyPath"];
  let historyPath = "";
  if (typeof historyValue === "string") {
    historyPath = historyValue.trim();
  } else if (historyValue !== undefined && historyValue !== null) {
    warnings.push("victor.historyPath must be a string; ignored.");
  }
  const checks: Record<string, boolean> = {};
  const checksValue = section["checks"];
  if (isRecord(checksValue)) {
    for (const [code, enabled] of Object.entries(checksValue)) {
      if (typeof enabled === "boolean") {
        checks[code] = enabled;
      } else {
        warnings.push(`victor.checks.${code} must be true or false; ignored.`);
      }
    }
  } else if (checksValue !== undefined && checksValue !== null) {
    warnings.push("victor.checks must be an object of problem code -> true/false; ignored.");
  }
  return {
    settings: {
      registry: stringList("registry"),
      stageLibraries: stringList("stageLibraries"),
      historyPath,
      checks,
    },
    warnings,
  };
}

/** Environment additions for CLI runs: the history location, when one is configured. */
export function cliEnvironment(settings: ServerSettings): Record<string, string> {
  return settings.historyPath ? { VICTOR_HISTORY_URL: settings.historyPath } : {};
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
