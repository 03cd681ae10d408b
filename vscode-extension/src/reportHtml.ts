/**
 * Prepares the self-contained HTML trace report for a webview: a strict Content-Security-Policy
 * (no network, no external files), with the report's own inline scripts allowed by a nonce.
 * Pure; must not import `vscode`. It does not render or understand the report.
 */

/** The policy: nothing but inline styles, data: images/fonts and nonce-bearing inline scripts. */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    "img-src data:",
    "font-src data:",
    "style-src 'unsafe-inline'",
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
}

const EXISTING_CSP = /<meta\b[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>/gi;
const INLINE_SCRIPT_OPEN = /<script\b(?![^>]*\bsrc\s*=)([^>]*)>/gi;
const NONCE_ATTRIBUTE = /\snonce\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi;

/**
 * Returns the report with our CSP first in `<head>`, any policy of its own removed (it could be
 * looser), and the nonce on inline `<script>` tags. Scripts loading a `src` get no nonce, so the
 * policy blocks them.
 */
export function secureReportHtml(html: string, nonce: string): string {
  if (!/^[A-Za-z0-9+/=]{16,}$/.test(nonce)) {
    throw new Error("nonce must be at least 16 base64 characters");
  }
  const meta = `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(nonce)}">`;
  const withNonces = html
    .replace(EXISTING_CSP, "")
    .replace(INLINE_SCRIPT_OPEN, (_match, attributes: string) => `<script${attributes.replace(NONCE_ATTRIBUTE, "")} nonce="${nonce}">`);
  const head = /<head\b[^>]*>/i.exec(withNonces);
  if (head) {
    const at = head.index + head[0].length;
    return withNonces.slice(0, at) + meta + withNonces.slice(at);
  }
  const htmlTag = /<html\b[^>]*>/i.exec(withNonces);
  if (htmlTag) {
    const at = htmlTag.index + htmlTag[0].length;
    return `${withNonces.slice(0, at)}<head>${meta}</head>${withNonces.slice(at)}`;
  }
  return `<!DOCTYPE html><html><head>${meta}</head><body>${withNonces}</body></html>`;
}
