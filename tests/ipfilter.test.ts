// The IP filter: validation (malformed addresses, mixed families and
// reversed ranges never reach libtorrent), exact export, the loopback guard
// of isolated sessions, the packed bulk path, and real connections refused
// or allowed by it. The seeder listens on 127.0.0.2 (Linux routes all of
// 127.0.0.0/8 to lo) so that blocking its address blocks only it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { IP_RANGE_RECORD_SIZE, packIpRanges, Session, type TorrentEvent } from "../mod.ts";
import {
  assertSameTree,
  makeFixture,
  openIsolated,
  openSeeder,
  TempDir,
  throwsCode,
  TIMEOUT,
  waitFor,
} from "./_helpers.ts";

const opts = { timeout: TIMEOUT.quick };

/** A session of the default profile kept on the machine: loopback listener, DHT/LSD/UPnP/NAT-PMP off. */
function openPlain(): Promise<Session> {
  return Session.open({
    listen: "127.0.0.1:0",
    settings: { enable_dht: false, enable_lsd: false, enable_upnp: false, enable_natpmp: false },
  });
}

const ALL_V4 = { first: "0.0.0.0", last: "255.255.255.255" };
const ALL_V6 = { first: "::", last: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" };
const LOOPBACK_ONLY = [
  { first: "0.0.0.0", last: "126.255.255.255", access: "block" },
  { first: "127.0.0.0", last: "127.255.255.255", access: "allow" },
  { first: "128.0.0.0", last: "255.255.255.255", access: "block" },
  { first: "::", last: "::", access: "block" },
  { first: "::1", last: "::1", access: "allow" },
  { first: "::2", last: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", access: "block" },
];

describe("ip filter", () => {
  test(
    "malformed addresses, mixed families and reversed ranges give INVALID_ARGUMENT and change nothing",
    opts,
    async () => {
      await using s = await openPlain();
      s.ipFilter.add({ first: "10.0.0.0", last: "10.0.0.255" });
      const before = s.ipFilter.export();
      const bad: [unknown, string][] = [
        [{ first: "10.0.0.9", last: "10.0.0.1" }, "reversed IPv4"],
        [{ first: "2001:db8::9", last: "2001:db8::1" }, "reversed IPv6"],
        [{ first: "10.0.0.1", last: "::1" }, "IPv4 to IPv6"],
        [{ first: "::ffff:0:0", last: "255.255.255.255" }, "IPv6 to IPv4"],
        [{ first: "10.0.0" }, "three octets"],
        [{ first: "256.0.0.1" }, "octet over 255"],
        [{ first: "01.2.3.4" }, "leading zero"],
        [{ first: "1.2.3.4.5" }, "five octets"],
        [{ first: "::g" }, "bad hex"],
        [{ first: "1::2::3" }, "two ::"],
        [{ first: "1:2:3:4:5:6:7:8:9" }, "nine groups"],
        [{ first: "fe80::1%eth0" }, "zone id"],
        [{ first: "localhost" }, "a name"],
        [{ first: "" }, "empty"],
        [{ first: "10.0.0.1", access: "deny" }, "bad access"],
        [{ first: "10.0.0.1", extra: 1 }, "unknown key"],
        [
          [{ first: "10.1.0.0", last: "10.1.0.255" }, { first: "10.2.0.9", last: "10.2.0.1" }],
          "one bad range in a list",
        ],
      ];
      for (const [range, label] of bad) {
        throwsCode(() => s.ipFilter.add(range as never), "INVALID_ARGUMENT", label);
      }
      const err = throwsCode(
        () => s.ipFilter.add([{ first: "10.1.0.0" }, { first: "10.2.0.0" }, { first: "9.9.9.9", last: "9.9.9.1" }]),
        "INVALID_ARGUMENT",
      );
      assert.match(err.message, /range 2/, "the error names the bad range's index");
      assert.deepEqual(s.ipFilter.export(), before, "no rule of a rejected call was applied");
      throwsCode(() => s.ipFilter.access("10.0.0.300"), "INVALID_ARGUMENT", "access() of a malformed address");
    },
  );

  test(
    "the shim rejects bad packed records itself (reversed, bad family, access or padding), all or nothing",
    opts,
    async () => {
      await using s = await openPlain();
      const before = s.ipFilter.export();
      const good = packIpRanges([{ first: "10.0.0.0", last: "10.0.0.255" }]);
      const variants: [string, (r: Uint8Array) => void][] = [
        ["reversed IPv4", (r) => {
          r.set([10, 0, 0, 9], 2);
          r.set([10, 0, 0, 1], 18);
        }],
        ["reversed IPv6", (r) => {
          r[0] = 6;
          r.fill(0, 2);
          r[2 + 15] = 9;
          r[18 + 15] = 1;
        }],
        ["family 5", (r) => (r[0] = 5)],
        ["access 2", (r) => (r[1] = 2)],
        ["IPv4 with non-zero padding", (r) => (r[2 + 4] = 1)],
      ];
      for (const [label, mutate] of variants) {
        const rec = good.slice();
        mutate(rec);
        // A valid record first: the call is all or nothing.
        const two = new Uint8Array(2 * IP_RANGE_RECORD_SIZE);
        two.set(packIpRanges([{ first: "11.0.0.0", last: "11.255.255.255" }]), 0);
        two.set(rec, IP_RANGE_RECORD_SIZE);
        const e = throwsCode(() => s.ipFilter.addPacked(two), "INVALID_ARGUMENT", label);
        assert.match(e.message, /IP range 1/, `${label}: the shim names the record`);
      }
      throwsCode(() => s.ipFilter.addPacked(good.subarray(0, 33)), "INVALID_ARGUMENT", "33 bytes");
      throwsCode(() => s.ipFilter.addPacked("x" as never), "INVALID_ARGUMENT", "not bytes");
      assert.deepEqual(s.ipFilter.export(), before, "nothing was applied");
      assert.equal(s.ipFilter.access("11.0.0.1"), "allow");
    },
  );

  test("export lists exactly the ranges in force; clear() empties the filter", opts, async () => {
    await using s = await openPlain();
    assert.deepEqual(s.ipFilter.export(), [{ ...ALL_V4, access: "allow" }, { ...ALL_V6, access: "allow" }]);
    s.ipFilter.add([
      { first: "10.0.0.0", last: "10.255.255.255" },
      { first: "10.1.0.0", last: "10.1.255.255", access: "allow" },
      { first: "192.168.1.7" },
      { first: "2001:db8::", last: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", access: "block" },
    ]);
    assert.deepEqual(s.ipFilter.export(), [
      { first: "0.0.0.0", last: "9.255.255.255", access: "allow" },
      { first: "10.0.0.0", last: "10.0.255.255", access: "block" },
      { first: "10.1.0.0", last: "10.1.255.255", access: "allow" },
      { first: "10.2.0.0", last: "10.255.255.255", access: "block" },
      { first: "11.0.0.0", last: "192.168.1.6", access: "allow" },
      { first: "192.168.1.7", last: "192.168.1.7", access: "block" },
      { first: "192.168.1.8", last: "255.255.255.255", access: "allow" },
      { first: "::", last: "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", access: "allow" },
      { first: "2001:db8::", last: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", access: "block" },
      { first: "2001:db9::", last: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", access: "allow" },
    ]);
    assert.deepEqual(s.ipFilter.export({ userOnly: true }), s.ipFilter.export(), "no guard outside isolated");
    assert.equal(s.ipFilter.access("10.0.0.1"), "block");
    assert.equal(s.ipFilter.access("10.1.2.3"), "allow");
    assert.equal(s.ipFilter.access("192.168.1.7"), "block");
    assert.equal(s.ipFilter.access("2001:db8::42"), "block");
    assert.equal(s.ipFilter.access("2001:db9::1"), "allow");
    s.ipFilter.clear();
    assert.deepEqual(s.ipFilter.export(), [{ ...ALL_V4, access: "allow" }, { ...ALL_V6, access: "allow" }]);
    assert.equal(s.ipFilter.access("10.0.0.1"), "allow");
  });

  test(
    "on an isolated session no user rule re-opens a non-loopback address, and clear() returns to loopback-only",
    opts,
    async () => {
      await using s = await openIsolated();
      assert.deepEqual(s.ipFilter.export(), LOOPBACK_ONLY, "an isolated session starts loopback-only");
      assert.deepEqual(s.ipFilter.export({ userOnly: true }), [{ ...ALL_V4, access: "allow" }, {
        ...ALL_V6,
        access: "allow",
      }]);
      s.ipFilter.add([{ ...ALL_V4, access: "allow" }, { ...ALL_V6, access: "allow" }, { first: "127.0.0.2" }]);
      for (const a of ["0.0.0.0", "10.0.0.1", "8.8.8.8", "126.255.255.255", "128.0.0.0", "::", "::2", "2001:db8::1"]) {
        assert.equal(s.ipFilter.access(a), "block", `${a} stays blocked`);
      }
      assert.equal(s.ipFilter.access("127.0.0.1"), "allow");
      assert.equal(s.ipFilter.access("::1"), "allow");
      assert.equal(s.ipFilter.access("127.0.0.2"), "block", "a user rule inside loopback applies");
      assert.deepEqual(s.ipFilter.export(), [
        { first: "0.0.0.0", last: "126.255.255.255", access: "block" },
        { first: "127.0.0.0", last: "127.0.0.1", access: "allow" },
        { first: "127.0.0.2", last: "127.0.0.2", access: "block" },
        { first: "127.0.0.3", last: "127.255.255.255", access: "allow" },
        { first: "128.0.0.0", last: "255.255.255.255", access: "block" },
        ...LOOPBACK_ONLY.slice(3),
      ]);
      // The engine enforces it: a peer outside loopback is refused even though
      // the user "allowed" everything (0.0.0.0 never leaves the machine).
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "f.bin": 20_000 });
      const events = s.events({ types: ["peer_blocked", "peer_connect"] });
      const t = await s.add({ magnet: fx.made.magnet, savePath: dir.join("dl") });
      t.connectPeer("0.0.0.0", 6881);
      const ev = await waitFor(events, (e) => e.type === "peer_blocked" || e.type === "peer_connect");
      assert.equal(ev.type, "peer_blocked", `0.0.0.0 was not refused: ${ev.message}`);
      assert.equal(ev.type === "peer_blocked" && ev.reason, "ip_filter");
      assert.equal(ev.type === "peer_blocked" && ev.peer, "0.0.0.0:6881");
      await events.return();
      s.ipFilter.clear();
      assert.deepEqual(s.ipFilter.export(), LOOPBACK_ONLY, "clear() goes back to loopback-only, not to allow-all");
    },
  );

  test("100 000 ranges go in with one packed call", opts, async () => {
    await using s = await openIsolated();
    const ranges = [];
    const v4 = (n: number) => `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    for (let i = 0; i < 100_000; i++) {
      if (i < 60_000) {
        // 8 addresses of every 16 inside 127.0.0.0/8, from 127.1.0.0 on
        const base = (1 << 16) + 16 * i;
        ranges.push({ first: v4(base), last: v4(base + 7) });
      } else {
        const h = (i - 60_000).toString(16);
        ranges.push({ first: `2001:db8:${h}::`, last: `2001:db8:${h}::ffff` });
      }
    }
    const packed = packIpRanges(ranges);
    assert.equal(packed.length, 100_000 * IP_RANGE_RECORD_SIZE);
    s.ipFilter.addPacked(packed);
    assert.equal(s.ipFilter.access("127.1.0.7"), "block");
    assert.equal(s.ipFilter.access("127.1.0.8"), "allow");
    assert.equal(s.ipFilter.access("127.1.0.16"), "block");
    assert.equal(s.ipFilter.access("127.15.166.248"), "allow", "past the last range");
    assert.equal(s.ipFilter.access("2001:db8:9c3f::12"), "block");
    assert.equal(s.ipFilter.access("127.0.0.1"), "allow");
    const user = s.ipFilter.export({ userOnly: true });
    const blocked = user.filter((r) => r.access === "block");
    assert.equal(blocked.length, 100_000, "every range is in the filter, none merged");
    assert.deepEqual(blocked[0], { first: "127.1.0.0", last: "127.1.0.7", access: "block" });
    assert.deepEqual(blocked[99_999], { first: "2001:db8:9c3f::", last: "2001:db8:9c3f::ffff", access: "block" });
  });

  test(
    "a leecher that blocks the seeder's loopback address cannot connect to it; once unblocked it downloads",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "a.bin": 150_001, "b/c.bin": 40_000 });
      const outDir = dir.join("download");
      {
        await using seeder = await openSeeder(fx, { listen: "127.0.0.2:0" });
        await using leecher = await openIsolated();
        const port = seeder.listenPort;
        const seen: TorrentEvent[] = [];
        const events = leecher.events({ types: ["peer_blocked", "peer_connect", "torrent_finished"] });
        leecher.ipFilter.add({ first: "127.0.0.2" });
        const t = await leecher.add({ torrent: fx.made.torrent, savePath: outDir });
        t.connectPeer("127.0.0.2", port);
        const ev = await waitFor(events, (e) => {
          seen.push(e);
          return e.type === "peer_blocked" || e.type === "peer_connect";
        });
        assert.equal(ev.type, "peer_blocked", `the blocked seeder was reached: ${ev.message}`);
        assert.equal(ev.type === "peer_blocked" && ev.peer, `127.0.0.2:${port}`);
        assert.equal(ev.type === "peer_blocked" && ev.reason, "ip_filter");
        assert.equal(ev.torrent, t);
        let st = t.status();
        assert.equal(st.numPeers, 0);
        assert.equal(st.totalDownload, 0, "nothing came from the blocked seeder");

        // Unblocked: the same leecher connects and downloads everything.
        leecher.ipFilter.clear();
        assert.equal(leecher.ipFilter.access("127.0.0.2"), "allow");
        t.connectPeer("127.0.0.2", port);
        await waitFor(events, (e) => {
          seen.push(e);
          return e.type === "torrent_finished";
        }, "torrent_finished");
        st = t.status();
        assert.equal(st.isFinished, true);
        assert.ok(
          seen.some((e) => e.type === "peer_connect" && e.peer === `127.0.0.2:${port}`),
          "connected to the seeder once allowed",
        );
        await events.return();
      }
      assertSameTree(fx.dataDir, dir.join("download", fx.name));
    },
  );

  test(
    "a seeder that blocks the leecher's address refuses its incoming connection",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "a.bin": 30_000 });
      await using seeder = await openSeeder(fx, { listen: "127.0.0.2:0" });
      await using leecher = await openIsolated();
      // The leecher's connections to 127.0.0.2 come from 127.0.0.1.
      seeder.ipFilter.add({ first: "127.0.0.1" });
      const seederEvents = seeder.events({ types: ["peer_blocked", "peer_connect"] });
      const t = await leecher.add({ torrent: fx.made.torrent, savePath: dir.join("dl") });
      t.connectPeer("127.0.0.2", seeder.listenPort);
      const ev = await waitFor(seederEvents, (e) => e.type === "peer_blocked" || e.type === "peer_connect");
      assert.equal(ev.type, "peer_blocked", `the seeder let the blocked leecher in: ${ev.message}`);
      assert.match(ev.type === "peer_blocked" ? ev.peer : "", /^127\.0\.0\.1:\d+$/);
      assert.equal(t.status().totalDownload, 0);
      await seederEvents.return();
    },
  );
});
