// Every failure of the public API is a TorrentError with a distinct, stable
// code. No network transfer here: one fixture, one session per group.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createTorrent, Session, TorrentError } from "../mod.ts";
import { type Fixture, makeFixture, openIsolated, rejectsCode, TempDir, throwsCode, TIMEOUT } from "./_helpers.ts";

const opts = { timeout: TIMEOUT.quick };

describe("error codes", () => {
  let dir: TempDir;
  let fx: Fixture;
  let session: Session;
  before(async () => {
    dir = new TempDir();
    fx = await makeFixture(dir, { "a.bin": 50_001, "sub/b.bin": 20_000 }, { version: "hybrid", pieceSize: 16384 });
    session = await openIsolated();
  });
  after(async () => {
    await session?.close();
    dir?.[Symbol.dispose]();
  });
  const savePath = () => dir.join("download");

  test("an invalid magnet URI gives INVALID_MAGNET", opts, async () => {
    await rejectsCode(
      () => session.add({ magnet: "magnet:?xt=urn:btih:oops", savePath: savePath() }),
      "INVALID_MAGNET",
    );
    await rejectsCode(
      () => session.add({ magnet: "http://example.invalid/x", savePath: savePath() }),
      "INVALID_MAGNET",
    );
    await rejectsCode(() => session.add({ magnet: "", savePath: savePath() }), "INVALID_MAGNET", "empty magnet");
    assert.equal(session.torrents().length, 0, "nothing was added");
  });

  test("truncated or garbage .torrent bytes give INVALID_TORRENT", opts, async () => {
    const t = fx.made.torrent;
    for (const cut of [1, t.length >> 1, t.length - 1]) {
      await rejectsCode(
        () => session.add({ torrent: t.slice(0, cut), savePath: savePath() }),
        "INVALID_TORRENT",
        `cut at ${cut}`,
      );
    }
    await rejectsCode(
      () => session.add({ torrent: randomBytes(600), savePath: savePath() }),
      "INVALID_TORRENT",
      "garbage",
    );
    await rejectsCode(
      () => session.add({ torrent: new Uint8Array(0), savePath: savePath() }),
      "INVALID_TORRENT",
      "empty",
    );
    const notATorrent = new TextEncoder().encode("d3:fooi1ee"); // valid bencode, no info dict
    await rejectsCode(() => session.add({ torrent: notATorrent, savePath: savePath() }), "INVALID_TORRENT", "no info");
    assert.equal(session.torrents().length, 0, "nothing was added");
  });

  test("garbage resume data gives INVALID_RESUME", opts, async () => {
    await rejectsCode(() => session.add({ resume: randomBytes(64) }), "INVALID_RESUME");
    await rejectsCode(() => session.add({ resume: new TextEncoder().encode("de") }), "INVALID_RESUME", "empty dict");
  });

  test("createTorrent of a path that does not exist gives PATH_NOT_FOUND", opts, async () => {
    await rejectsCode(() => createTorrent({ path: dir.join("no", "such", "path") }), "PATH_NOT_FOUND");
  });

  test("bad add() options give INVALID_ARGUMENT", opts, async () => {
    const sp = savePath();
    const { magnet, torrent } = fx.made;
    const cases: [string, unknown][] = [
      ["magnet of the wrong type", { magnet: 42, savePath: sp }],
      ["torrent of the wrong type", { torrent: "bytes", savePath: sp }],
      ["savePath of the wrong type", { magnet, savePath: 7 }],
      ["paused of the wrong type", { magnet, savePath: sp, paused: "yes" }],
      ["both magnet and torrent", { magnet, torrent, savePath: sp }],
      ["neither magnet, torrent nor resume", { savePath: sp }],
      ["missing savePath", { torrent }],
      ["empty savePath", { torrent, savePath: "" }],
      ["an unknown option", { torrent, savePath: sp, bogus: 1 }],
      ["null", null],
      ["a string", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"],
    ];
    for (const [label, o] of cases) {
      // deno-lint-ignore no-explicit-any
      await rejectsCode(() => session.add(o as any), "INVALID_ARGUMENT", label);
    }
    assert.equal(session.torrents().length, 0, "nothing was added");
  });

  test("add() reports failures by rejecting, never by throwing synchronously", opts, () => {
    // deno-lint-ignore no-explicit-any
    const p = session.add({ magnet: 42 } as any);
    assert.ok(p instanceof Promise);
    return assert.rejects(p, TorrentError);
  });

  test("bad connectPeer() host or port gives INVALID_ARGUMENT", opts, async () => {
    const t = await session.add({ torrent: fx.made.torrent, savePath: savePath(), paused: true });
    try {
      const cases: [string, unknown, unknown][] = [
        ["port 0", "127.0.0.1", 0],
        ["port 65536", "127.0.0.1", 65536],
        ["negative port", "127.0.0.1", -1],
        ["fractional port", "127.0.0.1", 1.5],
        ["port as a string", "127.0.0.1", "6881"],
        ["a host name", "localhost", 6881],
        ["an empty host", "", 6881],
        ["a non-numeric host", "127.0.0.one", 6881],
        ["host and port in one", "127.0.0.1:6881", 6881],
      ];
      for (const [label, host, port] of cases) {
        // deno-lint-ignore no-explicit-any
        throwsCode(() => t.connectPeer(host as any, port as any), "INVALID_ARGUMENT", label);
      }
      // deno-lint-ignore no-explicit-any
      await rejectsCode(() => t.remove({ deleteFiles: "yes" } as any), "INVALID_ARGUMENT", "remove() option type");
      assert.equal(t.removed, false, "a rejected remove() leaves the torrent in place");
    } finally {
      await t.remove();
    }
  });

  test("bad createTorrent() and Session.open() options give INVALID_ARGUMENT", opts, async () => {
    const cases: [string, () => Promise<unknown>][] = [
      ["no path", () => createTorrent({} as never)],
      ["piece size not a power of two", () => createTorrent({ path: fx.dataDir, pieceSize: 20_000 })],
      ["piece size too small", () => createTorrent({ path: fx.dataDir, pieceSize: 8192 })],
      ["unknown version", () => createTorrent({ path: fx.dataDir, version: "v3" as never })],
      ["tracker not a URL", () => createTorrent({ path: fx.dataDir, trackers: ["not a url"] })],
      ["unknown profile", () => Session.open({ profile: "open" as never })],
      ["unknown option", () => Session.open({ profile: "isolated", bogus: 1 } as never)],
      [
        "setting value of no setting type",
        () => Session.open({ profile: "isolated", settings: { upload_rate_limit: [1] as never } }),
      ],
      ["dhtBootstrap without a port", () => Session.open({ profile: "isolated", dhtBootstrap: ["127.0.0.1"] })],
    ];
    for (const [label, fn] of cases) await rejectsCode(fn, "INVALID_ARGUMENT", label);
  });

  test("an unknown setting name gives UNKNOWN_SETTING, at open and when applied", opts, async () => {
    await rejectsCode(() => Session.open({ profile: "isolated", settings: { no_such_setting: 1 } }), "UNKNOWN_SETTING");
    throwsCode(() => session.applySettings({ no_such_setting: 1 }), "UNKNOWN_SETTING");
  });

  test("a setting value of the wrong type gives SETTING_TYPE, at open and when applied", opts, async () => {
    await rejectsCode(
      () => Session.open({ profile: "isolated", settings: { upload_rate_limit: "fast" } }),
      "SETTING_TYPE",
      "int ← string",
    );
    await rejectsCode(
      () => Session.open({ profile: "isolated", settings: { user_agent: 5 } }),
      "SETTING_TYPE",
      "string ← int",
    );
    await rejectsCode(
      () => Session.open({ profile: "isolated", settings: { enable_dht: "yes" } }),
      "SETTING_TYPE",
      "bool ← string",
    );
    await rejectsCode(
      () => Session.open({ profile: "isolated", settings: { enable_dht: 2 } }),
      "SETTING_TYPE",
      "bool ← 2",
    );
    throwsCode(() => session.applySettings({ upload_rate_limit: "fast" }), "SETTING_TYPE", "applySettings");
    // A batch with one bad value fails as a whole, with that value's code.
    throwsCode(
      () => session.applySettings({ user_agent: "x", upload_rate_limit: "fast" }),
      "SETTING_TYPE",
      "mixed batch",
    );
  });

  // KNOWN BUG (src/session.ts encodeSettings): booleans are encoded as the
  // integers 1/0 before the native layer sees them, so a boolean given for an
  // integer setting is silently accepted as 1 instead of failing. Fixing it
  // needs the setting types on the TypeScript side or a distinct encoding
  // for booleans in the native ABI (native/ is not ours to change here).
  test("KNOWN BUG: a boolean for an integer setting gives SETTING_TYPE", opts, async () => {
    await rejectsCode(
      () => Session.open({ profile: "isolated", settings: { upload_rate_limit: true } }),
      "SETTING_TYPE",
      "int ← boolean",
    );
  });

  test("adding the same torrent twice gives DUPLICATE_TORRENT, whether by bytes or by magnet", opts, async () => {
    const t = await session.add({ torrent: fx.made.torrent, savePath: savePath(), paused: true });
    try {
      await rejectsCode(
        () => session.add({ torrent: fx.made.torrent, savePath: savePath() }),
        "DUPLICATE_TORRENT",
        "bytes",
      );
      await rejectsCode(
        () => session.add({ magnet: fx.made.magnet, savePath: savePath() }),
        "DUPLICATE_TORRENT",
        "magnet",
      );
      assert.deepEqual(session.torrents(), [t], "the session still holds the one torrent");
    } finally {
      await t.remove();
    }
    // Once removed, it can be added again.
    const again = await session.add({ torrent: fx.made.torrent, savePath: savePath(), paused: true });
    assert.notEqual(again, t);
    await again.remove();
  });

  test(
    "an isolated session refuses non-loopback listen and bootstrap addresses with INVALID_ARGUMENT",
    opts,
    async () => {
      const refused: [string, Parameters<typeof Session.open>[0]][] = [
        ["listen on all IPv4", { profile: "isolated", listen: "0.0.0.0:0" }],
        ["listen on all IPv6", { profile: "isolated", listen: "[::]:0" }],
        ["listen on a LAN address", { profile: "isolated", listen: "192.168.1.10:6881" }],
        ["loopback plus all", { profile: "isolated", listen: "127.0.0.1:0,0.0.0.0:0" }],
        ["a host name", { profile: "isolated", listen: "localhost:0" }],
        // With an unknown setting beside it: were the check missing, the engine
        // would refuse the batch (UNKNOWN_SETTING) and never resolve or
        // contact the router, and this case would fail without leaving the machine.
        ["a public DHT router", {
          profile: "isolated",
          dhtBootstrap: ["router.bittorrent.com:6881"],
          settings: { torrentxt_test_no_such_setting: 1 },
        }],
      ];
      for (const [label, o] of refused) await rejectsCode(() => Session.open(o), "INVALID_ARGUMENT", label);
      // The loopback forms are accepted.
      await using ok = await Session.open({
        profile: "isolated",
        listen: "127.0.0.1:0",
        dhtBootstrap: ["127.0.0.1:6881"],
      });
      assert.ok(ok.listenPort > 0);
    },
  );

  // Each settings batch below also holds an unknown setting, so that were the
  // isolation check missing, the native layer would refuse the whole batch
  // (UNKNOWN_SETTING) and nothing would ever be applied: the test fails
  // without anything leaving the machine.
  test(
    "an isolated session refuses settings that would leave the machine, at open and when applied",
    opts,
    async () => {
      const escapes: [string, Record<string, string | number | boolean>][] = [
        ["listen_interfaces on all addresses", { listen_interfaces: "0.0.0.0:0" }],
        ["listen_interfaces with a LAN address", { listen_interfaces: "127.0.0.1:0,10.1.2.3:0" }],
        ["a public DHT bootstrap node", { dht_bootstrap_nodes: "router.bittorrent.com:6881" }],
        ["LSD on", { enable_lsd: true }],
        ["UPnP on", { enable_upnp: true }],
        ["NAT-PMP on", { enable_natpmp: 1 }],
        ["outgoing connections from eth0", { outgoing_interfaces: "eth0" }],
        ["a remote proxy", { proxy_hostname: "proxy.example.com" }],
      ];
      for (const [label, settings] of escapes) {
        const batch = { ...settings, torrentxt_test_no_such_setting: 1 };
        await rejectsCode(
          () => Session.open({ profile: "isolated", settings: batch }),
          "INVALID_ARGUMENT",
          `open: ${label}`,
        );
        throwsCode(() => session.applySettings(batch), "INVALID_ARGUMENT", `applySettings: ${label}`);
      }
      // Loopback values stay allowed.
      session.applySettings({ dht_bootstrap_nodes: "127.0.0.1:6881", enable_lsd: false });
    },
  );

  test("every TorrentError is an Error with name, code and message", opts, async () => {
    const e = await rejectsCode(
      () => session.add({ magnet: "magnet:?xt=urn:btih:oops", savePath: savePath() }),
      "INVALID_MAGNET",
    );
    assert.ok(e instanceof Error);
    assert.equal(e.name, "TorrentError");
    assert.match(e.message, /magnet/i);
  });
});
