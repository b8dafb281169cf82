// node:test glue: one stack per test file, the services' logs attached to
// a failing test's error, and assertions on the bridge's answers.

import assert from "node:assert/strict";
import { before, after, it as nodeIt } from "node:test";
import { Stack } from "./stack.mjs";
import { codeName } from "./graph.mjs";

// Starts a stack before the file's tests and stops it after them; every
// service stopped with SIGTERM must exit 0. Returns a holder whose .stack
// is set once started.
export function useStack(opts = {}) {
  const holder = { stack: null };
  before(async () => {
    holder.stack = await new Stack(opts).start();
  });
  after(async () => {
    if (!holder.stack) return;
    const codes = await holder.stack.stop();
    for (const [name, code] of codes) {
      assert.equal(code, 0, `${name} exit code on SIGTERM:\n${holder.stack.logs()}`);
    }
  });
  return holder;
}

// it() whose failures carry the tail of the services' logs.
export function itWithLogs(holder) {
  return (name, opts, fn) => {
    if (typeof opts === "function") {
      fn = opts;
      opts = {};
    }
    return nodeIt(name, { timeout: 120000, ...opts }, async (t) => {
      try {
        await fn(t);
      } catch (e) {
        if (holder.stack) e.message += `\n${holder.stack.logs()}`;
        throw e;
      }
    });
  };
}

function show(r) {
  return `HTTP ${r.status}: ${r.text?.slice(0, 600)}`;
}

// Asserts an HTTP answer's status and, for graph errors, the code of the
// first error (errors[0].code, or the body's top-level "code").
export function expectStatus(r, status, code) {
  assert.equal(r.status, status, `expected HTTP ${status}, got ${show(r)}`);
  if (status >= 400) {
    assert.ok(r.json && typeof r.json.error === "string" && r.json.error.length > 0, `error body: ${show(r)}`);
  }
  if (code) {
    const got = r.json?.errors?.length ? codeName(r.json.errors[0].code) : codeName(r.json?.code);
    assert.equal(got, code, `error code: ${show(r)}`);
  }
  return r.json;
}

// 200 with a JSON body.
export function expectOk(r) {
  assert.equal(r.status, 200, `expected HTTP 200, got ${show(r)}`);
  assert.ok(r.json, `JSON body: ${show(r)}`);
  return r.json;
}

// 200 and ok: true (ExecuteResponse, ExecuteBatchResponse).
export function expectGraphOk(r) {
  expectOk(r);
  assert.equal(r.json.ok, true, `ok: ${show(r)}`);
  return r.json;
}
