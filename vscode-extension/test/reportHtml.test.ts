import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { contentSecurityPolicy, declaredScriptHashes, secureReportHtml } from "../src/reportHtml";

const NONCE = "AbCdEfGhIjKlMnOpQrSt";

describe("secureReportHtml", () => {
  it("puts the CSP first in <head> and a nonce on inline scripts", () => {
    const html = '<!DOCTYPE html><html><head><title>t</title><style>b{}</style></head><body><script>go()</script></body></html>';
    const out = secureReportHtml(html, NONCE);
    assert.ok(out.includes(`<head><meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy([`'nonce-${NONCE}'`])}">`));
    assert.ok(out.includes(`<script nonce="${NONCE}">go()</script>`));
    assert.ok(out.includes("<style>b{}</style>"));
  });

  it("the policy allows no network, no external files and only nonce scripts", () => {
    const csp = contentSecurityPolicy([`'nonce-${NONCE}'`]);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${NONCE}'(;|$)`));
    assert.doesNotMatch(csp, /https?:|\*|unsafe-eval/);
    assert.doesNotMatch(csp.split("; ").find((d) => d.startsWith("script-src")) ?? "", /unsafe-inline/);
  });

  it("gives no nonce to scripts loading a src, and replaces a nonce of the report's own", () => {
    const out = secureReportHtml('<html><head></head><body><script src="https://cdn/x.js"></script><script type="module" nonce="old">a()</script></body></html>', NONCE);
    assert.ok(out.includes('<script src="https://cdn/x.js">'));
    assert.ok(out.includes(`<script type="module" nonce="${NONCE}">`));
    assert.ok(!out.includes('nonce="old"'));
  });

  it("keeps the report's own script hashes instead of adding nonces", () => {
    const hash = "'sha256-Hm7Za56eAyhBBod847kOSi/3Qww8KMoozcnyQI0kyKM='";
    const html = `<html><head><meta http-equiv="Content-Security-Policy" content="default-src *; script-src ${hash}"></head><body><script>go()</script></body></html>`;
    assert.deepEqual(declaredScriptHashes(html), [hash]);
    const out = secureReportHtml(html, NONCE);
    assert.ok(out.includes(`script-src ${hash}; connect-src 'none'`));
    assert.ok(!out.includes("nonce"));
    assert.ok(!out.includes("default-src *"));
    assert.ok(out.includes("<script>go()</script>"));
  });

  it("ignores a report policy that allows more than hashes", () => {
    assert.equal(declaredScriptHashes(`<meta http-equiv="content-security-policy" content="script-src 'sha256-AAAA=' 'unsafe-inline'">`), undefined);
    assert.equal(declaredScriptHashes(`<meta http-equiv='Content-Security-Policy' content='default-src none'>`), undefined);
  });

  it("removes a looser policy of the report's own", () => {
    const out = secureReportHtml(`<html><head><meta http-equiv="Content-Security-Policy" content="default-src *"></head></html>`, NONCE);
    assert.ok(!out.includes("default-src *"));
    assert.equal(out.match(/Content-Security-Policy/g)?.length, 1);
  });

  it("adds a head when the report has none", () => {
    assert.match(secureReportHtml("<html><body>x</body></html>", NONCE), /^<html><head><meta [^>]+><\/head><body>x<\/body><\/html>$/);
    assert.match(secureReportHtml("<p>x</p>", NONCE), /^<!DOCTYPE html><html><head><meta [^>]+><\/head><body><p>x<\/p><\/body><\/html>$/);
  });

  it("refuses a weak nonce", () => {
    assert.throws(() => secureReportHtml("<p></p>", "short"));
    assert.throws(() => secureReportHtml("<p></p>", `${NONCE}'; script-src *`));
  });
});
