/**
 * Prepares the self-contained HTML trace report for a webview: a strict Content-Security-Policy
 * (no network, no external files) under which only the report's own inline scripts run.
 * Pure; must not import `vscode`. It does not render or understand the report.
 */

/** The policy: nothing but inline styles, data: images/fonts and the given script sources. */
export function contentSecurityPolicy(scriptSources: readonly string[]): string {
  return [
    "default-src 'none'",
    "img-src data:",
    "font-src data:",
    "style-src 'unsafe-inline'",
    `script-src ${scriptSources.length > 0 ? scriptSources.join(" ") : "'none'"}`,
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
}

const EXISTING_CSP = /<meta\b[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>/gi;
const CONTENT_ATTRIBUTE = /\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)')/i;
const HASH_SOURCE = /^'sha(256|384|512)-[A-Za-z0-9+/=]+'$/;
const INLINE_SCRIPT_OPEN = /<script\b(?![^>]*\bsrc\s*=)([^>]*)>/gi;
const NONCE_ATTRIBUTE = /\snonce\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi;

/**
 * The hash sources of the report's own `script-src`, when it pins its scripts by hash only.
 * Those were computed by the report generator over its own scripts, so they are kept: anything
 * else that looks like a script in the report (e.g. from workflow data) still cannot run.
 */
export function declaredScriptHashes(html: string): string[] | undefined {
  for (const meta of html.match(EXISTING_CSP) ?? []) {
    const content = CONTENT_ATTRIBUTE.exec(meta);
    const policy = content?.[1] ?? content?.[2] ?? "";
    const scriptSrc = policy
      .split(";")
      .map((directive) => directive.trim().split(/\s+/))
      .find(([name]) => name?.toLowerCase() === "script-src");
    const sources = scriptSrc?.slice(1) ?? [];
    if (sources.length > 0 && sources.every((source) => HASH_SOURCE.test(source))) {
      return sources;
    }
  }
  return undefined;
}

/**
 * Returns the report with our CSP first in `<head>` and any policy of its own removed (it could
 * be looser). Inline scripts run if the report pinned them by hash, else by a nonce we add to
 * every inline `<script>`; scripts loading a `src` never run.
 */
export function secureReportHtml(html: string, nonce: string): string {
  if (!/^[A-Za-z0-9+/=]{16,}$/.test(nonce)) {
    throw new Error("nonce must be at least 16 base64 characters");
  }
  const hashes = declaredScriptHashes(html);
  const meta = `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(hashes ?? [`'nonce-${nonce}'`])}">`;
  let secured = html.replace(EXISTING_CSP, "");
  if (hashes === undefined) {
    secured = secured.replace(
      INLINE_SCRIPT_OPEN,
      (_match, attributes: string) => `<script${attributes.replace(NONCE_ATTRIBUTE, "")} nonce="${nonce}">`,
    );
  }
  const head = /<head\b[^>]*>/i.exec(secured);
  if (head) {
    const at = head.index + head[0].length;
    return secured.slice(0, at) + meta + secured.slice(at);
  }
  const htmlTag = /<html\b[^>]*>/i.exec(secured);
  if (htmlTag) {
    const at = htmlTag.index + htmlTag[0].length;
    return `${secured.slice(0, at)}<head>${meta}</head>${secured.slice(at)}`;
  }
  return `<!DOCTYPE html><html><head>${meta}</head><body>${secured}</body></html>`;
}
