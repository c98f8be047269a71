// session.use(): attach, detach by handle and by `await using`, close
// detaches every plugin (last first), bad plugins refused with a code.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Plugin, PluginInstance, Session } from "../mod.ts";
import { openIsolated, rejectsCode } from "./_helpers.ts";

function recorder(log: string[], name: string): Plugin<PluginInstance & { session: Session }> {
  return {
    name,
    attach(session) {
      log.push(`attach ${name}`);
      return { session, detach: () => void log.push(`detach ${name}`) };
    },
  };
}

describe("plugins", () => {
  test("use() returns the plugin's API; detach() runs once; close detaches the rest, last first", async () => {
    const log: string[] = [];
    const s = await openIsolated();
    const a = await s.use(recorder(log, "a"));
    const b = await s.use(recorder(log, "b"));
    const c = await s.use(recorder(log, "c"));
    assert.equal(a.session, s);
    assert.equal(b.detached, false);
    await b.detach();
    await b.detach();
    assert.equal(b.detached, true);
    await s.close();
    assert.deepEqual(log, ["attach a", "attach b", "attach c", "detach b", "detach c", "detach a"]);
    assert.equal(a.detached && c.detached, true);
    await rejectsCode(() => s.use(recorder(log, "late")), "SESSION_CLOSED");
  });

  test("await using detaches at the end of the block", async () => {
    const log: string[] = [];
    await using s = await openIsolated();
    {
      await using _p = await s.use(recorder(log, "scoped"));
      assert.deepEqual(log, ["attach scoped"]);
    }
    assert.deepEqual(log, ["attach scoped", "detach scoped"]);
  });

  test("bad plugins: INVALID_ARGUMENT; an attach error propagates", async () => {
    await using s = await openIsolated();
    // deno-lint-ignore no-explicit-any
    const use = (p: unknown) => s.use(p as any);
    await rejectsCode(() => use(null), "INVALID_ARGUMENT");
    await rejectsCode(() => use({ name: "x" }), "INVALID_ARGUMENT");
    await rejectsCode(() => use({ name: "x", attach: () => 42 }), "INVALID_ARGUMENT");
    const once = { detach() {} };
    await s.use({ name: "y", attach: () => once });
    await rejectsCode(() => use({ name: "y2", attach: () => once }), "INVALID_ARGUMENT");
    await assert.rejects(s.use({ name: "z", attach: () => Promise.reject(new Error("boom")) }), /boom/);
  });
});
