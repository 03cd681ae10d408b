import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  DISMISSED_REASON,
  HitlRequest,
  hitlUiSpec,
  InputBoxSpec,
  parseHitlRequest,
  QuickPickSpec,
  responseFromInput,
  responseFromPick,
} from "../src/hitl";

function request(fields: Record<string, unknown>): HitlRequest {
  const parsed = parseHitlRequest({ requestId: "r1", nodeId: "gate", prompt: "Proceed?", choices: [], ...fields });
  if ("error" in parsed) {
    throw new Error(parsed.error);
  }
  return parsed;
}

function pickSpec(req: HitlRequest): QuickPickSpec {
  const spec = hitlUiSpec(req);
  if (spec.kind !== "quickPick") {
    assert.fail(`expected a quick pick, got ${spec.kind}`);
  }
  return spec;
}

function inputSpec(req: HitlRequest): InputBoxSpec {
  const spec = hitlUiSpec(req);
  if (spec.kind !== "inputBox") {
    assert.fail(`expected an input box, got ${spec.kind}`);
  }
  return spec;
}

describe("parseHitlRequest", () => {
  it("rejects bodies without a request id", () => {
    assert.deepEqual(parseHitlRequest(null), { error: "victorHitlRequest body is not an object" });
    assert.ok("error" in parseHitlRequest({ nodeId: "n" }));
  });

  it("tolerates missing optional fields and drops a non-positive timeout", () => {
    const parsed = parseHitlRequest({ requestId: "x", timeoutSeconds: 0 });
    assert.deepEqual(parsed, { requestId: "x", nodeId: "", hitlType: "", prompt: "", choices: [] });
  });
});

describe("approval and confirmation", () => {
  it("approval offers Approve/Reject and maps them to approved true/false", () => {
    const req = request({ hitlType: "approval", timeoutSeconds: 30 });
    const spec = pickSpec(req);
    assert.deepEqual(spec.items.map((i) => i.label), ["Approve", "Reject"]);
    assert.match(spec.title, /gate/);
    assert.match(spec.title, /30s/);
    assert.equal(spec.placeholder, "Proceed?");
    assert.deepEqual(responseFromPick(req, spec.items[0]), { requestId: "r1", approved: true, value: true });
    const rejected = responseFromPick(req, spec.items[1]);
    assert.equal(rejected.approved, false);
    assert.equal(rejected.value, false);
    assert.match(rejected.reason ?? "", /Reject/);
  });

  it("confirmation pre-selects No when the default is false", () => {
    const spec = pickSpec(request({ hitlType: "confirmation", defaultValue: false }));
    assert.deepEqual(spec.items.map((i) => i.label), ["Yes", "No"]);
    assert.equal(spec.activeIndex, 1);
    assert.equal(pickSpec(request({ hitlType: "confirmation" })).activeIndex, 0);
  });

  it("dismissing the quick pick answers not approved with a reason", () => {
    const req = request({ hitlType: "approval" });
    assert.deepEqual(responseFromPick(req, undefined), { requestId: "r1", approved: false, reason: DISMISSED_REASON });
  });
});

describe("choice", () => {
  it("lists the choices, pre-selects the default and returns the chosen value", () => {
    const req = request({ hitlType: "choice", choices: ["retry", "skip", "abort"], defaultValue: "skip" });
    const spec = pickSpec(req);
    assert.deepEqual(spec.items.map((i) => i.label), ["retry", "skip", "abort"]);
    assert.equal(spec.activeIndex, 1);
    assert.deepEqual(responseFromPick(req, spec.items[2]), { requestId: "r1", approved: true, value: "abort" });
  });

  it("falls back to an input box when a choice request has no choices", () => {
    assert.equal(hitlUiSpec(request({ hitlType: "choice", choices: [] })).kind, "inputBox");
  });

  it("treats an unknown type with choices as a choice", () => {
    assert.equal(hitlUiSpec(request({ hitlType: "poll", choices: ["a"] })).kind, "quickPick");
  });
});

describe("input and review", () => {
  it("input pre-fills the default and returns the typed text", () => {
    const req = request({ hitlType: "input", prompt: "Ticket id?", defaultValue: "T-1" });
    const spec = inputSpec(req);
    assert.equal(spec.prompt, "Ticket id?");
    assert.equal(spec.value, "T-1");
    assert.deepEqual(responseFromInput(spec, req, "T-9"), { requestId: "r1", approved: true, value: "T-9" });
  });

  it("review of a structured value parses edited JSON back, and keeps non-JSON text", () => {
    const req = request({ hitlType: "review", defaultValue: { title: "x", n: 1 } });
    const spec = inputSpec(req);
    assert.equal(spec.value, '{"title":"x","n":1}');
    assert.deepEqual(responseFromInput(spec, req, '{"title":"y","n":2}').value, { title: "y", n: 2 });
    assert.equal(responseFromInput(spec, req, "looks fine").value, "looks fine");
  });

  it("a string default is never JSON-parsed", () => {
    const req = request({ hitlType: "input", defaultValue: "42" });
    assert.equal(responseFromInput(inputSpec(req), req, "42").value, "42");
  });

  it("dismissing the input box answers not approved", () => {
    const req = request({ hitlType: "input" });
    assert.deepEqual(responseFromInput(inputSpec(req), req, undefined), { requestId: "r1", approved: false, reason: DISMISSED_REASON });
  });
});
