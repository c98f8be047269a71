// Session.open({ tuning: "throughput" }): libtorrent's high_performance_seed()
// pack plus large socket buffers, under the user's own settings; checked on
// the engine's settings and over a real uTP transfer on loopback.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Session, THROUGHPUT_SETTINGS } from "../mod.ts";
import {
  assertSameTree,
  makeFixture,
  openIsolated,
  openSeeder,
  rejectsCode,
  TempDir,
  TIMEOUT,
  waitFor,
} from "./_helpers.ts";

describe("tuning", () => {
  test("throughput applies every setting of the pack; default keeps libtorrent's", async () => {
    await using tuned = await openIsolated({ tuning: "throughput" });
    await using plain = await openIsolated();
    let differing = 0;
    for (const [name, value] of Object.entries(THROUGHPUT_SETTINGS)) {
      assert.equal(tuned.settings.get(name), value, `${name} under "throughput"`);
      if (plain.settings.get(name) !== value) differing++;
    }
    // The pack is not a no-op: most of it differs from the defaults.
    assert.ok(differing >= Object.keys(THROUGHPUT_SETTINGS).length - 2, `only ${differing} settings differ`);
    // The isolated profile still holds under the tuning.
    assert.match(String(tuned.settings.get("listen_interfaces")), /^127\.0\.0\.1:/);
    assert.equal(tuned.settings.get("enable_lsd"), false);
  });

  test("the user's settings override the tuning", async () => {
    await using s = await openIsolated({ tuning: "throughput", settings: { send_buffer_watermark: 123_456 } });
    assert.equal(s.settings.get("send_buffer_watermark"), 123_456);
    assert.equal(s.settings.get("max_queued_disk_bytes"), THROUGHPUT_SETTINGS.max_queued_disk_bytes);
  });

  test("an unknown tuning is INVALID_ARGUMENT", async () => {
    await rejectsCode(
      () => Session.open({ profile: "isolated", tuning: "fast" as unknown as "throughput" }),
      "INVALID_ARGUMENT",
    );
  });

  test("a uTP-only transfer between two throughput-tuned sessions moves the right bytes", {
    timeout: TIMEOUT.transfer,
  }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "a.bin": 3_000_000, "b/c.bin": 700_001 }, { version: "v1" });
    const utpOnly = { enable_outgoing_tcp: false, enable_incoming_tcp: false };
    const seeder = await openSeeder(fx, { tuning: "throughput", settings: utpOnly });
    try {
      const leecher = await openIsolated({ tuning: "throughput", settings: utpOnly });
      const out = dir.join("out");
      const events = leecher.events({ types: ["peer_connect", "torrent_finished", "torrent_error", "file_error"] });
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: out });
      t.connectPeer("127.0.0.1", seeder.listenPort);
      const connect = await waitFor(events, (e) => e.type === "peer_connect" && e.torrent === t, "peer_connect");
      assert.match(connect.message, /uTP/, "the connection is uTP");
      await waitFor(events, (e) => {
        if (e.type === "torrent_error" || e.type === "file_error") throw new Error(e.message);
        return e.type === "torrent_finished" && e.torrent === t;
      }, "torrent_finished");
      const st = t.status();
      assert.equal(st.totalDone, 3_700_001);
      await events.return();
      await leecher.close(); // flushes the files
      assertSameTree(fx.dataDir, join(out, fx.name));
    } finally {
      await seeder.close();
    }
  });
});
