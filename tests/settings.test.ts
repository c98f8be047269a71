// session.settings: every libtorrent setting by name, strictly typed, and
// the encryption policy presets, checked over real loopback connections.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { Session } from "../mod.ts";
import {
  makeFixture,
  openIsolated,
  openSeeder,
  rejectsCode,
  TempDir,
  THROTTLED_SEEDER,
  throwsCode,
  TIMEOUT,
  waitFor,
  waitForSeeding,
} from "./_helpers.ts";

/** libtorrent's own setting names, from the python binding when the machine has it. */
function pythonSettingNames(): string[] | undefined {
  if (!existsSync("/usr/bin/python3")) return undefined;
  const r = spawnSync("/usr/bin/python3", [
    "-c",
    "import json, libtorrent as lt\n" +
    "s = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False," +
    " 'enable_upnp': False, 'enable_natpmp': False})\n" +
    "print(json.dumps(sorted(s.get_settings().keys())))",
  ], { encoding: "utf8", timeout: 15_000 });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout);
}

describe("settings", () => {
  test("list() enumerates every libtorrent setting with its type, value and default", {
    timeout: TIMEOUT.quick,
  }, async () => {
    await using session = await openIsolated();
    const list = session.settings.list();
    const names = list.map((s) => s.name);
    assert.equal(new Set(names).size, names.length, "names are unique");
    assert.ok(list.length >= 240, `libtorrent 2.0 has about 250 settings, got ${list.length}`);
    const py = pythonSettingNames();
    if (py) assert.deepEqual([...names].sort(), py, "the same names as libtorrent's python binding");
    else console.log("python3-libtorrent not found: compared with libtorrent's own count only");
    for (const s of list) {
      const want = s.type === "bool" ? "boolean" : s.type === "int" ? "number" : "string";
      assert.equal(typeof s.value, want, `${s.name} value`);
      assert.equal(typeof s.default, want, `${s.name} default`);
      assert.deepEqual(session.settings.get(s.name), s.value, `get(${s.name})`);
      assert.equal(session.settings.typeOf(s.name), s.type);
    }
    const by = new Map(list.map((s) => [s.name, s]));
    assert.equal(by.get("upload_rate_limit")?.type, "int");
    assert.equal(by.get("upload_rate_limit")?.default, 0);
    assert.equal(by.get("enable_dht")?.type, "bool");
    assert.equal(by.get("enable_dht")?.default, true);
    assert.equal(by.get("enable_lsd")?.value, false, "the isolated profile's value");
    assert.equal(by.get("listen_interfaces")?.type, "string");
    assert.equal(by.get("listen_interfaces")?.value, "127.0.0.1:0");
    assert.match(String(by.get("user_agent")?.default), /libtorrent/);
    assert.equal(session.settings.typeOf("no_such_setting"), undefined);
  });

  test("get/set round trip for each type, one by one and in a batch", { timeout: TIMEOUT.quick }, async () => {
    await using session = await openIsolated();
    const s = session.settings;
    s.set("upload_rate_limit", 250_000);
    s.set("user_agent", "torrentxt-test ✓");
    s.set("enable_outgoing_utp", false);
    assert.equal(s.get("upload_rate_limit"), 250_000);
    assert.equal(s.get("user_agent"), "torrentxt-test ✓");
    assert.equal(s.get("enable_outgoing_utp"), false);
    s.set({
      upload_rate_limit: 99_000,
      connections_limit: 42,
      enable_outgoing_utp: true,
      peer_fingerprint: "-TX0001-",
    });
    assert.equal(s.get("upload_rate_limit"), 99_000);
    assert.equal(s.get("connections_limit"), 42);
    assert.equal(s.get("enable_outgoing_utp"), true);
    assert.equal(s.get("peer_fingerprint"), "-TX0001-");
    s.set("download_rate_limit", 2147483647);
    assert.equal(s.get("download_rate_limit"), 2147483647);
    session.applySettings({ upload_rate_limit: 7 });
    assert.equal(s.get("upload_rate_limit"), 7, "applySettings and settings share the engine's values");
  });

  test("bad names and types give UNKNOWN_SETTING and SETTING_TYPE, strictly", { timeout: TIMEOUT.quick }, async () => {
    await using session = await openIsolated();
    const s = session.settings;
    throwsCode(() => s.get("no_such_setting"), "UNKNOWN_SETTING");
    throwsCode(() => s.set("no_such_setting", 1), "UNKNOWN_SETTING");
    throwsCode(() => s.set({ upload_rate_limit: 5, no_such_setting: 1 }), "UNKNOWN_SETTING", "in a batch");
    const wrong: [string, unknown, string][] = [
      ["upload_rate_limit", true, "boolean for an int"],
      ["upload_rate_limit", "5", "string for an int"],
      ["upload_rate_limit", 1.5, "fraction for an int"],
      ["upload_rate_limit", 2 ** 31, "beyond int32"],
      ["upload_rate_limit", -(2 ** 31) - 1, "below int32"],
      ["upload_rate_limit", null, "null"],
      ["enable_dht", 1, "1 for a bool"],
      ["enable_dht", 0, "0 for a bool"],
      ["enable_dht", "true", "string for a bool"],
      ["user_agent", 5, "number for a string"],
      ["user_agent", false, "boolean for a string"],
      ["user_agent", {}, "object for a string"],
    ];
    for (const [name, v, label] of wrong) throwsCode(() => s.set(name, v as never), "SETTING_TYPE", label);
    // Nothing of a failing batch is applied.
    throwsCode(() => s.set({ upload_rate_limit: 9, enable_dht: 1 as never }), "SETTING_TYPE", "batch");
    assert.equal(s.get("upload_rate_limit"), 0);
    // The same strictness everywhere settings enter.
    throwsCode(() => session.applySettings({ upload_rate_limit: true }), "SETTING_TYPE", "applySettings");
    throwsCode(() => session.applySettings({ enable_dht: 1 }), "SETTING_TYPE", "applySettings 1 for a bool");
    await rejectsCode(
      () => Session.open({ profile: "isolated", settings: { upload_rate_limit: true } }),
      "SETTING_TYPE",
      "open: boolean for an int",
    );
    await rejectsCode(
      () => Session.open({ profile: "isolated", settings: { enable_dht: 0 } }),
      "SETTING_TYPE",
      "open: 0 for a bool",
    );
    throwsCode(() => s.get(""), "INVALID_ARGUMENT");
    throwsCode(() => s.get(5 as never), "INVALID_ARGUMENT");
    throwsCode(() => s.set(null as never), "INVALID_ARGUMENT");
    throwsCode(() => s.set([] as never), "INVALID_ARGUMENT");
    throwsCode(() => s.setEncryption("maybe" as never), "INVALID_ARGUMENT");
    throwsCode(() => s.setEncryption("toString" as never), "INVALID_ARGUMENT");
  });

  test("setEncryption() maps the presets and the getter reads them back", { timeout: TIMEOUT.quick }, async () => {
    await using session = await openIsolated();
    const s = session.settings;
    assert.equal(s.encryption, "enabled", "libtorrent's default");
    s.setEncryption("forced");
    assert.equal(s.encryption, "forced");
    assert.deepEqual(
      [s.get("out_enc_policy"), s.get("in_enc_policy"), s.get("allowed_enc_level")],
      [0, 0, 2],
      "pe_forced, pe_forced, pe_rc4",
    );
    s.setEncryption("disabled");
    assert.equal(s.encryption, "disabled");
    assert.deepEqual([s.get("out_enc_policy"), s.get("in_enc_policy")], [2, 2]);
    s.setEncryption("enabled");
    assert.deepEqual([s.get("out_enc_policy"), s.get("in_enc_policy"), s.get("allowed_enc_level")], [1, 1, 3]);
    s.set({ out_enc_policy: 0, in_enc_policy: 1 });
    assert.equal(s.encryption, "custom");
  });

  test("forced encryption on both sides transfers over RC4", { timeout: TIMEOUT.transfer }, async () => {
    using dir = new TempDir();
    // Throttled: the peers are inspected mid-transfer (two seeds would disconnect).
    const fx = await makeFixture(dir, { "x.bin": 600_000 }, { version: "v1" });
    await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
    seeder.settings.setEncryption("forced");
    await using leecher = await openIsolated();
    leecher.settings.setEncryption("forced");
    const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
    const events = t.events();
    t.connectPeer("127.0.0.1", seeder.listenPort);
    await waitFor(events, (ev) => ev.type === "piece_finished", "a piece over the forced connection");
    const mine = t.peers();
    const theirs = seeder.torrents()[0].peers();
    assert.equal(mine.length, 1);
    assert.equal(theirs.length, 1);
    for (const p of [...mine, ...theirs]) {
      assert.equal(p.flags.encrypted, true, `${p.address} encrypted`);
      assert.equal(p.flags.rc4, true, `${p.address} RC4 for the whole stream`);
    }
    await waitForSeeding(events, t);
    await events.return();
  });

  test("disabled encryption transfers in plaintext", { timeout: TIMEOUT.transfer }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "x.bin": 600_000 }, { version: "v1" });
    await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
    seeder.settings.setEncryption("disabled");
    await using leecher = await openIsolated();
    leecher.settings.setEncryption("disabled");
    const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
    const events = t.events();
    t.connectPeer("127.0.0.1", seeder.listenPort);
    await waitFor(events, (ev) => ev.type === "piece_finished", "a piece");
    const peers = [...t.peers(), ...seeder.torrents()[0].peers()];
    assert.equal(peers.length, 2, "one connection, seen from both ends");
    for (const p of peers) assert.equal(p.flags.encrypted, false, `${p.address} in plaintext`);
    await waitForSeeding(events, t);
    await events.return();
  });

  test("forced and disabled cannot connect, in either direction", { timeout: TIMEOUT.transfer }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "x.bin": 60_000 }, { version: "v1" });
    for (const [seedPolicy, leechPolicy] of [["disabled", "forced"], ["forced", "disabled"]] as const) {
      await using seeder = await openSeeder(fx);
      seeder.settings.setEncryption(seedPolicy);
      await using leecher = await openIsolated();
      leecher.settings.setEncryption(leechPolicy);
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join(`dl-${leechPolicy}`) });
      const events = leecher.events({ types: ["peer_disconnected", "piece_finished", "peer_connect"] });
      t.connectPeer("127.0.0.1", seeder.listenPort);
      // The attempt is made and refused: a disconnect, never a piece.
      const ev = await waitFor(
        events,
        (e) => e.type === "peer_disconnected" || e.type === "piece_finished",
        "a refusal",
      );
      assert.equal(ev.type, "peer_disconnected", `${leechPolicy} → ${seedPolicy} must not transfer`);
      const st = t.status();
      assert.equal(st.totalDownload, 0, `${leechPolicy} leecher vs ${seedPolicy} seeder: no payload`);
      assert.equal(st.numPeers, 0);
      assert.deepEqual(seeder.torrents()[0].peers().filter((p) => !p.flags.connecting && !p.flags.handshake), []);
      await events.return();
    }
  });
});
