// The BEP 46 channels plugin: the spec's test vectors (target ids, and the
// BEP 44 signatures they build on), address parsing, then on a private DHT
// of five isolated sessions on 127.0.0.1 (three plain nodes, a publisher
// and a follower): a release published from a folder is followed and
// downloaded byte for byte, a second release is switched to, forged,
// replayed and wrongly keyed items are refused with their codes, the
// follower keeps the channel alive without the owner's key, and quick drop
// round trips.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, createPublicKey, verify } from "node:crypto";
import {
  bencode,
  createDhtKeypair,
  createTorrent,
  type DhtSignedItem,
  type EventStream,
  type Session,
  type Torrent,
  verifyMutableItem,
} from "../mod.ts";
import {
  channelAddress,
  type ChannelFollower,
  channels,
  channelTarget,
  type ChannelUpdate,
  parseChannelAddress,
  verifyChannelItem,
} from "../plugins/channels/mod.ts";
import {
  assertSameTree,
  openIsolated,
  rejectsCode,
  TempDir,
  throwsCode,
  TIMEOUT,
  waitFor,
  writeTree,
} from "./_helpers.ts";

const enc = new TextEncoder();
const fromHex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
const ep = (s: Session) => `127.0.0.1:${s.listenPort}`;
const opts = { timeout: TIMEOUT.slow };

// BEP 44 test vectors (the keys of tests 1 and 2) and BEP 46's.
const BEP44_PK = "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548";
const BEP44_SIG1 = "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff" +
  "1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01";
const BEP44_SIG2 = "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d" +
  "df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08";
const BEP46_PK = "8543d3e6115f0f98c944077a4493dcd543e49c739fd998550a1f614ab36ed63e";

/** A BEP 44 signature checked with node:crypto (independent of libtorrent and the shim). */
function verifyIndependently(
  item: { publicKey: Uint8Array; signature: Uint8Array; salt: Uint8Array; seq: number; bencoded: Uint8Array },
): boolean {
  const head = item.salt.length
    ? Buffer.concat([enc.encode(`4:salt${item.salt.length}:`), item.salt])
    : Buffer.alloc(0);
  const msg = Buffer.concat([head, enc.encode(`3:seqi${item.seq}e1:v`), item.bencoded]);
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), item.publicKey]);
  return verify(null, msg, createPublicKey({ key: spki, format: "der", type: "spki" }), item.signature);
}

describe("channels: test vectors and addresses (no network)", () => {
  test("BEP 46 and BEP 44 target ids: SHA-1(public key + salt)", () => {
    // BEP 46 test 1 and 2 (salt "n", hex 6e).
    const a1 = parseChannelAddress(`magnet:?xs=urn:btpk:${BEP46_PK}`);
    assert.equal(a1.target, "cc3f9d90b572172053626f9980ce261a850d050b");
    assert.equal(a1.salt.length, 0);
    const a2 = parseChannelAddress(`magnet:?xs=urn:btpk:${BEP46_PK}&s=6e`);
    assert.equal(a2.target, "59ee7c2cb9b4f7eb1986ee2d18fd2fdb8a56554f");
    assert.deepEqual(a2.salt, enc.encode("n"));
    assert.equal(channelAddress(fromHex(BEP46_PK), "n"), `magnet:?xs=urn:btpk:${BEP46_PK}&s=6e`);
    assert.equal(channelAddress(fromHex(BEP46_PK)), `magnet:?xs=urn:btpk:${BEP46_PK}`);
    // BEP 44 test 1 and 2 (salt "foobar").
    assert.equal(channelTarget(fromHex(BEP44_PK)), "4a533d47ec9c7d95b1ad75f576cffc641853b750");
    assert.equal(channelTarget(fromHex(BEP44_PK), "foobar"), "411eba73b6f087ca51a3795d9c8c938d365e32c1");
    assert.equal(channelTarget(fromHex(BEP44_PK), enc.encode("foobar")), "411eba73b6f087ca51a3795d9c8c938d365e32c1");
    // Parameters in any order, upper-case hex, a display name and other parameters are fine.
    const a3 = parseChannelAddress(
      `magnet:?dn=My%20Channel&s=6E&tr=udp%3A%2F%2Fx&xs=urn:btpk:${BEP46_PK.toUpperCase()}`,
    );
    assert.equal(a3.target, "59ee7c2cb9b4f7eb1986ee2d18fd2fdb8a56554f");
    assert.equal(a3.name, "My Channel");
    assert.equal(a3.address, `magnet:?xs=urn:btpk:${BEP46_PK}&s=6e`, "normalised");
  });

  test("BEP 44 signatures of tests 1 and 2 verify in the shim; altered ones do not", async () => {
    const v = enc.encode("12:Hello World!");
    const t1: DhtSignedItem = { publicKey: fromHex(BEP44_PK), signature: fromHex(BEP44_SIG1), seq: 1, bencoded: v };
    const t2: DhtSignedItem = { ...t1, signature: fromHex(BEP44_SIG2), salt: "foobar" };
    assert.equal(await verifyMutableItem(t1), true, "test 1");
    assert.equal(await verifyMutableItem(t2), true, "test 2 (salt)");
    assert.equal(await verifyMutableItem({ ...t1, value: "Hello World!", bencoded: undefined }), true, "by value");
    assert.equal(await verifyMutableItem({ ...t1, seq: 2 }), false, "another seq");
    assert.equal(await verifyMutableItem({ ...t1, salt: "foobar" }), false, "test 1's signature with a salt");
    assert.equal(await verifyMutableItem({ ...t2, salt: "foobaz" }), false, "another salt");
    assert.equal(await verifyMutableItem({ ...t1, bencoded: enc.encode("12:Hello World?") }), false, "another value");
    const forged = fromHex(BEP44_SIG1);
    forged[0] ^= 0x80;
    assert.equal(await verifyMutableItem({ ...t1, signature: forged }), false, "one bit flipped");
    // Immutable target of test 3 (the code a quick drop of the same text gets).
    assert.equal(createHash("sha1").update(v).digest("hex"), "e5f96f6f38320f0f33959cb4d3d656452117aadb");
    await rejectsCode(() => verifyMutableItem({ ...t1, signature: new Uint8Array(63) }), "INVALID_ARGUMENT");
    await rejectsCode(() => verifyMutableItem({ ...t1, seq: -1 }), "INVALID_ARGUMENT");
    await rejectsCode(() => verifyMutableItem({ ...t1, bencoded: enc.encode("12:short") }), "INVALID_ARGUMENT");
  });

  test("bad addresses give INVALID_CHANNEL_ADDRESS", async () => {
    const pk = BEP46_PK;
    const bad: unknown[] = [
      "",
      "hello",
      `xs=urn:btpk:${pk}`,
      "magnet:?",
      `magnet:?xt=urn:btih:${"ab".repeat(20)}`,
      `magnet:?xs=urn:btpk:${pk.slice(2)}`, // 62 hex
      `magnet:?xs=urn:btpk:${pk}00`, // 66 hex
      `magnet:?xs=urn:btpk:${"zz".repeat(32)}`,
      `magnet:?xs=urn:btpk:${pk}&s=6`, // odd salt
      `magnet:?xs=urn:btpk:${pk}&s=zz`,
      `magnet:?xs=urn:btpk:${pk}&s=${"00".repeat(65)}`, // 65-byte salt
      `magnet:?xs=urn:btpk:${pk}&s=6e&s=6f`,
      `magnet:?xs=urn:btpk:${pk}&xs=urn:btpk:${pk}`,
      `magnet:?xs=urn:btpk:${pk}&dn=%E0%A4%A`,
      `magnet:?xs=urn:btpk:${pk}&xt=urn:btih:${"ab".repeat(20)}`,
      `magnet:?${"x".repeat(5000)}`,
      42,
      null,
      undefined,
    ];
    for (const a of bad) throwsCode(() => parseChannelAddress(a as string), "INVALID_CHANNEL_ADDRESS", String(a));
    await rejectsCode(
      () => verifyChannelItem("magnet:?xs=urn:btpk:00", {} as DhtSignedItem),
      "INVALID_CHANNEL_ADDRESS",
    );
    throwsCode(() => channelAddress(new Uint8Array(31)), "INVALID_ARGUMENT", "31-byte key");
    throwsCode(() => channelAddress(fromHex(pk), new Uint8Array(65)), "INVALID_ARGUMENT", "65-byte salt");
    throwsCode(() => channels({ timeoutMs: 0 }), "INVALID_ARGUMENT", "timeoutMs 0");
    throwsCode(() => channels({ bogus: 1 } as never), "INVALID_ARGUMENT", "unknown option");
  });
});

/** Pings every other node from `s`: each answer puts the node in `s`'s routing table. */
async function join(s: Session, all: Session[]): Promise<void> {
  await Promise.all(all.filter((n) => n !== s).map((n) => s.dht.ping(ep(n))));
}

/** Waits until `t` finished downloading, then flushes it so its files can be read. */
async function finished(events: EventStream, t: Torrent): Promise<void> {
  if (!t.status().isFinished) {
    await waitFor(events, (e) => {
      if ((e.type === "torrent_error" || e.type === "file_error") && e.torrent === t) {
        throw new Error(`${e.type}: ${e.message}`);
      }
      return e.torrent === t &&
        (e.type === "torrent_finished" || (e.type === "state_changed" && e.state === "seeding"));
    }, "torrent_finished");
  }
  await t.flushCache();
}

describe("channels on a private DHT of five isolated sessions", () => {
  const nodes: Session[] = [];
  let publisher: Session, follower: Session;
  const dir = new TempDir("torrentxt-channels-");

  before(async () => {
    for (let i = 0; i < 5; i++) nodes.push(await openIsolated());
    await Promise.all(nodes.map((n) => join(n, nodes)));
    publisher = nodes[3];
    follower = nodes[4];
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    dir[Symbol.dispose]();
  });

  test(
    "one publishes a folder, another follows and downloads it, then switches to the second release",
    opts,
    async () => {
      const keys = await createDhtKeypair();
      await using pub = await publisher.use(channels());
      await using fol = await follower.use(channels());
      writeTree(dir.join("r1", "release-1"), { "a.bin": 70_001, "sub/b.bin": 20_000 });
      writeTree(dir.join("r2", "release-2"), { "c.bin": 50_003 });

      const r1 = await pub.publish(dir.join("r1", "release-1"), { keys, salt: "weekly", pieceSize: 16384 });
      assert.equal(r1.address, channelAddress(keys.publicKey, "weekly"));
      assert.equal(r1.seq, 1, "a new channel starts at seq 1");
      assert.match(r1.infoHash, /^[0-9a-f]{40}$/);
      assert.ok(r1.torrent?.status().isSeeding, "created and seeding");
      assert.ok(r1.numSuccess >= 1, `stored on ${r1.numSuccess} nodes`);
      assert.deepEqual(r1.feed.map((e) => [e.infoHash, e.seq, e.name]), [[r1.infoHash, 1, "release-1"]]);
      // The stored item is BEP 46: { ih: <20 bytes> }, signed by the key (checked independently).
      const stored = await nodes[0].dht.getMutable(keys.publicKey, "weekly");
      assert.ok(stored);
      assert.deepEqual(stored.bencoded, bencode({ ih: fromHex(r1.infoHash) }));
      assert.equal(stored.seq, 1);
      assert.ok(verifyIndependently(stored), "signature verifies with node:crypto");

      const events = follower.events();
      const f: ChannelFollower = fol.follow(r1.address, { savePath: dir.join("out"), pollIntervalMs: 250 });
      assert.equal(f.target, channelTarget(keys.publicKey, "weekly"));
      assert.deepEqual(fol.following, [f]);
      const u1 = (await f.next()).value as ChannelUpdate;
      assert.equal(u1.seq, 1);
      assert.equal(u1.infoHash, r1.infoHash);
      assert.equal(u1.source, "dht");
      assert.equal(u1.previous, undefined);
      assert.equal(u1.feed[0]?.infoHash, r1.infoHash);
      assert.equal(follower.findTorrent(r1.infoHash), u1.torrent, "added to the follower's session");
      await finished(events, u1.torrent);
      assertSameTree(dir.join("r1", "release-1"), dir.join("out", "release-1"));

      // The second release: the follower switches to it.
      const r2 = await pub.publish(dir.join("r2", "release-2"), { keys, salt: "weekly", name: "second" });
      assert.equal(r2.seq, 2);
      assert.deepEqual(r2.feed.map((e) => [e.infoHash, e.seq, e.name]), [
        [r2.infoHash, 2, "second"],
        [r1.infoHash, 1, "release-1"],
      ], "the feed lists both, newest first");
      const u2 = (await f.next()).value as ChannelUpdate;
      assert.equal(u2.seq, 2);
      assert.equal(u2.infoHash, r2.infoHash);
      assert.equal(u2.previous, u1.torrent);
      assert.deepEqual(u2.feed.map((e) => e.infoHash), [r2.infoHash, r1.infoHash]);
      assert.equal(f.seq, 2);
      assert.equal(f.current, u2);
      await finished(events, u2.torrent);
      await events.return();
      assertSameTree(dir.join("r2", "release-2"), dir.join("out", "release-2"));
      assert.equal(await f.refresh(), null, "nothing newer");

      // Leaving the iterator stops following; the torrents stay.
      await f.return();
      assert.ok(f.stopped);
      assert.deepEqual(fol.following, []);
      assert.equal((await f.next()).done, true);
      assert.ok(!u2.torrent.removed);
      await rejectsCode(() => f.refresh(), "ABORTED");
    },
  );

  test("a forged signature, a replayed lower seq and a wrong key are refused with their codes", opts, async () => {
    const keys = await createDhtKeypair();
    const other = await createDhtKeypair();
    await using pub = await publisher.use(channels({ republishIntervalMs: 0 }));
    await using fol = await follower.use(channels({ republishIntervalMs: 0 }));
    const ih1 = createHash("sha1").update("release one").digest("hex");
    const ih2 = createHash("sha1").update("release two").digest("hex");
    const r1 = await pub.publish({ infoHash: ih1, name: "one" }, { keys, salt: "s" });
    const old = await nodes[1].dht.getMutable(keys.publicKey, "s");
    assert.equal(old?.seq, 1);
    const r2 = await pub.publish({ infoHash: ih2 }, { keys, salt: "s", address: r1.address });
    assert.equal(r2.seq, 2);

    const f = fol.follow(r1.address, { savePath: dir.join("refused"), download: false, pollIntervalMs: 60_000 });
    const u = (await f.next()).value as ChannelUpdate;
    assert.equal(u.seq, 2);
    assert.equal(u.infoHash, ih2);
    assert.ok(u.torrent.status().paused, "download: false adds it paused");

    // A forged signature: refused by the follower and by the DHT put.
    const forged = { ...u.item, seq: 3, signature: u.item.signature.slice() };
    forged.signature[5] ^= 1;
    await rejectsCode(() => f.offer(forged), "DHT_BAD_SIGNATURE", "offer");
    await rejectsCode(() => follower.dht.putMutableSigned(forged), "DHT_BAD_SIGNATURE", "put");
    // The value altered under a valid signature: the same.
    const altered = { ...u.item, bencoded: bencode({ ih: fromHex(ih1) }) };
    await rejectsCode(() => f.offer(altered), "DHT_BAD_SIGNATURE", "altered value");
    await rejectsCode(
      () => verifyChannelItem(r1.address, forged),
      "DHT_BAD_SIGNATURE",
      "verifyChannelItem",
    );

    // A replayed lower seq (a real item, signed by the owner): refused, and the DHT keeps seq 2.
    assert.ok(old && verifyIndependently(old), "the old item is authentic");
    await rejectsCode(() => f.offer(old), "CHANNEL_STALE_SEQUENCE", "offer seq 1 after seq 2");
    await rejectsCode(() => f.offer(u.item), "CHANNEL_STALE_SEQUENCE", "the same seq again");
    await rejectsCode(() => follower.dht.putMutableSigned(old), "DHT_STALE_SEQUENCE", "replayed on the DHT");
    assert.equal((await nodes[2].dht.getMutable(keys.publicKey, "s"))?.seq, 2, "the DHT still holds seq 2");
    await rejectsCode(
      () => pub.publish({ infoHash: ih1 }, { keys, salt: "s", seq: 2 }),
      "CHANNEL_STALE_SEQUENCE",
      "publishing under a seq not above the current",
    );
    await rejectsCode(() => verifyChannelItem(r1.address, old, { afterSeq: 1 }), "CHANNEL_STALE_SEQUENCE");
    assert.deepEqual(await verifyChannelItem(r1.address, old), { seq: 1, infoHash: ih1 });

    // A wrong key: an authentic item of another channel, another salt, or publishing with another key.
    const otherPub = await pub.publish({ infoHash: ih1 }, { keys: other, salt: "s", seq: 9 });
    const otherItem = await nodes[0].dht.getMutable(other.publicKey, "s");
    assert.equal(otherItem?.seq, 9);
    await rejectsCode(() => f.offer(otherItem!), "CHANNEL_WRONG_KEY", "another key's item");
    const otherSalt = await nodes[0].dht.putMutable({ ...keys, salt: "t", value: { ih: fromHex(ih1) }, seq: 10 });
    const saltItem = await nodes[1].dht.getMutable(keys.publicKey, "t");
    assert.equal(saltItem?.seq, otherSalt.seq);
    await rejectsCode(() => f.offer(saltItem!), "CHANNEL_WRONG_KEY", "the same key under another salt");
    await rejectsCode(
      () => pub.publish({ infoHash: ih1 }, { keys: other, salt: "s", address: r1.address }),
      "CHANNEL_WRONG_KEY",
      "publishing to a channel with another key",
    );
    await rejectsCode(
      () =>
        pub.publish({ infoHash: ih1 }, { keys: { ...keys, secretKey: other.secretKey, seed: undefined }, salt: "s" }),
      "CHANNEL_WRONG_KEY",
      "a secret key not of the public key",
    );
    await rejectsCode(
      () => pub.publish({ infoHash: ih1 }, { keys: { ...keys, seed: other.seed }, salt: "s" }),
      "CHANNEL_WRONG_KEY",
      "a seed not of the pair",
    );
    assert.notEqual(otherPub.address, r1.address);

    // A value that is not BEP 46 ({ ih: <20 bytes> }), signed by the owner.
    const junk = await nodes[0].dht.putMutable({ ...keys, salt: "s", value: { ih: "short" }, seq: 3 });
    const junkItem = await nodes[1].dht.getMutable(keys.publicKey, "s");
    assert.equal(junkItem?.seq, junk.seq);
    await rejectsCode(() => f.offer(junkItem!), "CHANNEL_BAD_VALUE", "ih not 20 bytes");
    await rejectsCode(() => f.refresh(), "CHANNEL_BAD_VALUE", "the same from the DHT");
    assert.equal(f.seq, 2, "nothing refused was taken");
    assert.equal(f.current, u);

    // Bad input.
    await rejectsCode(() => f.offer(null as never), "INVALID_ARGUMENT");
    throwsCode(() => fol.follow("magnet:?xs=urn:btpk:12", { savePath: "/tmp" }), "INVALID_CHANNEL_ADDRESS");
    throwsCode(() => fol.follow(r1.address, {} as never), "INVALID_ARGUMENT", "no savePath");
    throwsCode(() => fol.follow(r1.address, { savePath: "/tmp", pollIntervalMs: 5 }), "INVALID_ARGUMENT");
    await rejectsCode(() => pub.publish({ infoHash: "xyz" }, { keys }), "INVALID_ARGUMENT", "bad info-hash");
    await rejectsCode(() => pub.publish(42 as never, { keys }), "INVALID_ARGUMENT", "not a source");
    await rejectsCode(
      () => pub.publish({ infoHash: ih1 }, { keys: { publicKey: keys.publicKey } } as never),
      "INVALID_ARGUMENT",
    );
    await rejectsCode(
      () => pub.publish({ infoHash: ih1 }, { keys, address: "magnet:?xs=1" }),
      "INVALID_CHANNEL_ADDRESS",
    );
    await rejectsCode(() => pub.publish(dir.join("does-not-exist"), { keys }), "PATH_NOT_FOUND");
    await f.stop();
  });

  test("the feed keeps the newest releases within 1000 bytes; a Torrent source; replace: true", opts, async () => {
    const keys = await createDhtKeypair();
    await using pub = await publisher.use(channels({ republishIntervalMs: 0 }));
    await using fol = await follower.use(channels({ republishIntervalMs: 0 }));
    const ihs: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const ih = createHash("sha1").update(`feed ${i}`).digest("hex");
      ihs.push(ih);
      const r = await pub.publish({ infoHash: ih }, { keys, name: `release number ${i} `.padEnd(80, "ü") });
      assert.equal(r.seq, i);
      assert.equal(r.feed[0].infoHash, ih, "newest first");
    }
    const feedSalt = createHash("sha1").update("torrentxt-channel-feed:").digest();
    const stored = await nodes[0].dht.getMutable(keys.publicKey, feedSalt);
    assert.ok(stored, "the feed item is on the DHT");
    assert.ok(stored.bencoded.length <= 1000, `${stored.bencoded.length} bytes`);
    assert.ok(verifyIndependently(stored), "signed by the channel key");
    const entries = (stored.value as { r: { ih: Uint8Array; n: Uint8Array; s: number; t: number }[] }).r;
    assert.ok(entries.length >= 5 && entries.length < 16, `${entries.length} entries fit`);
    assert.deepEqual(
      entries.map((e) => Buffer.from(e.ih).toString("hex")),
      ihs.slice(-entries.length).reverse(),
      "the newest releases, newest first",
    );
    assert.deepEqual(entries.map((e) => e.s), entries.map((_, i) => 20 - i));
    for (const e of entries) assert.ok(e.n.length <= 64, "names cut to 64 bytes");
    assert.ok(new TextDecoder("utf-8", { fatal: true }).decode(entries[0].n).startsWith("release number 20"));

    // A Torrent of the session as the source, and a follower that replaces the previous release.
    using tmp = new TempDir();
    writeTree(tmp.join("seed", "album"), { "track.bin": 40_000 });
    const made = await createTorrent({ path: tmp.join("seed", "album"), version: "v1" });
    const t = await publisher.add({ torrent: made.torrent, savePath: tmp.join("seed") });
    const f = fol.follow(channelAddress(keys.publicKey), { savePath: tmp.join("out"), replace: true, feed: false });
    const u20 = (await f.next()).value as ChannelUpdate;
    assert.equal(u20.seq, 20);
    assert.deepEqual(u20.feed, [], "feed: false");
    const r21 = await pub.publish(t, { keys });
    assert.equal(r21.infoHash, made.infoHash.v1);
    assert.equal(r21.torrent, t);
    assert.equal(r21.feed[0].name, "album");
    const u21 = await f.refresh();
    assert.equal(u21?.seq, 21);
    assert.equal(u21?.infoHash, made.infoHash.v1);
    assert.equal(u21?.previous, u20.torrent);
    assert.ok(u20.torrent.removed, "replace: the previous release was removed");
    assert.equal((await f.next()).value, u21, "refresh() updates are also yielded");
    await f.stop();
    const v2 = await createTorrent({ path: tmp.join("seed", "album", "track.bin"), version: "v2" });
    const t2 = await publisher.add({ torrent: v2.torrent, savePath: tmp.join("seed", "album") });
    await rejectsCode(() => pub.publish(t2, { keys }), "INVALID_ARGUMENT", "a v2-only torrent");
  });

  test("a release whose seeder is announced only after the follower added it is still found", opts, async () => {
    // The seeder is off the DHT: it never announces, and never looks the follower up. The follower's own
    // lookup (when it added the torrent) found nobody; libtorrent's next one is ~15 minutes away. Only the
    // follower's per-tick peer lookup can find the peer announced afterwards on its behalf.
    using tmp = new TempDir();
    writeTree(tmp.join("seed", "late"), { "late.bin": 90_001 });
    const made = await createTorrent({ path: tmp.join("seed", "late"), pieceSize: 16384 });
    const ih = made.infoHash.v1!;
    await using seeder = await openIsolated({ settings: { enable_dht: false } });
    const seedEvents = seeder.events({ types: ["torrent_checked"] });
    const st = await seeder.add({ torrent: made.torrent, savePath: tmp.join("seed") });
    if (!st.status().isSeeding) await waitFor(seedEvents, (e) => e.torrent === st);
    await seedEvents.return();
    assert.ok(st.status().isSeeding);

    const keys = await createDhtKeypair();
    await using pub = await publisher.use(channels({ republishIntervalMs: 0 }));
    await using fol = await follower.use(channels({ republishIntervalMs: 0 }));
    const r = await pub.publish({ infoHash: ih, name: "late" }, { keys });
    assert.equal(r.torrent, undefined, "the publisher does not have it");
    const events = follower.events();
    const f = fol.follow(r.address, { savePath: tmp.join("out"), pollIntervalMs: 200 });
    const u = (await f.next()).value as ChannelUpdate;
    assert.equal(u.infoHash, ih);
    assert.equal(u.torrent.status().numPeers, 0, "no peer yet");
    nodes[0].dht.announce(ih, { port: seeder.listenPort, seed: true });
    await finished(events, u.torrent);
    await events.return();
    await f.stop();
    assertSameTree(tmp.join("seed", "late"), tmp.join("out", "late"));
  });

  test("the follower keeps the channel alive without the owner's key", opts, async () => {
    const keys = await createDhtKeypair();
    const ih = createHash("sha1").update("kept alive").digest("hex");
    await using fol = await follower.use(channels({ republishIntervalMs: 0 }));
    const put = await publisher.dht.putMutable({ ...keys, salt: "alive", value: { ih: fromHex(ih) }, seq: 5 });
    const f = fol.follow(channelAddress(keys.publicKey, "alive"), { savePath: dir.join("alive"), download: false });
    const u = (await f.next()).value as ChannelUpdate;
    assert.equal(u.seq, 5);
    assert.deepEqual(u.item.signature, put.signature);

    // Every node forgets the items it stored (a DHT restart drops them), the owner's key is gone.
    await Promise.all(nodes.map(async (n) => {
      const boot = n.events({ types: ["dht_bootstrap"] });
      n.dht.loadState(n.dht.saveState());
      await waitFor(boot, (e) => e.type === "dht_bootstrap");
      await boot.return();
    }));
    await Promise.all(nodes.map((n) => join(n, nodes)));
    assert.equal(await nodes[0].dht.getMutable(keys.publicKey, "alive"), null, "gone from the DHT");

    const stored = await f.republish();
    assert.ok(stored >= 1, `re-published to ${stored} nodes`);
    const back = await nodes[1].dht.getMutable(keys.publicKey, "alive");
    assert.equal(back?.seq, 5);
    assert.deepEqual(back?.signature, put.signature, "the owner's signature, unchanged");
    assert.deepEqual(back?.bencoded, bencode({ ih: fromHex(ih) }));
    await f.stop();
    assert.equal(await f.republish(), 0, "a stopped follower holds nothing to put");

    // On a timer (republishIntervalMs), a follower re-stores what it holds by itself.
    await using auto = await follower.use(channels({ republishIntervalMs: 200 }));
    const puts = follower.events({ types: ["dht_put"] });
    const g = auto.follow(channelAddress(keys.publicKey, "alive"), { savePath: dir.join("alive"), download: false });
    assert.equal(((await g.next()).value as ChannelUpdate).seq, 5);
    const ev = await waitFor(puts, (e) => e.type === "dht_put" && e.target === g.target);
    assert.ok(ev.type === "dht_put" && ev.seq === 5 && ev.error === "" && ev.numSuccess >= 1, JSON.stringify(ev));
    assert.equal(ev.type === "dht_put" && ev.signature, Buffer.from(put.signature).toString("hex"));
    await puts.return();
  });

  test("quick drop: a text put on one node is picked up on another by its code", opts, async () => {
    await using a = await nodes[1].use(channels());
    await using b = await nodes[2].use(channels());
    const code = await a.drop("Hello World!");
    assert.equal(code, "e5f96f6f38320f0f33959cb4d3d656452117aadb", "BEP 44 test 3: SHA-1 of 12:Hello World!");
    assert.equal(await b.pickup(code), "Hello World!");
    const text = "ünïcødé ✓ " + "x".repeat(900);
    const code2 = await b.drop(text);
    assert.match(code2, /^[0-9a-f]{40}$/);
    assert.equal(await a.pickup(code2.toUpperCase()), text);
    assert.equal(await a.pickup("00".repeat(20)), null, "nothing under this code");
    // Not text: an immutable item that is not a UTF-8 string.
    const notText = await nodes[0].dht.putImmutable({ a: 1 });
    await rejectsCode(() => b.pickup(notText.target), "CHANNEL_BAD_VALUE");
    const badUtf8 = await nodes[0].dht.putImmutable(new Uint8Array([0xff, 0xfe]));
    await rejectsCode(() => b.pickup(badUtf8.target), "CHANNEL_BAD_VALUE");
    await rejectsCode(() => a.drop("x".repeat(997)), "INVALID_ARGUMENT", "997 bytes");
    await rejectsCode(() => a.drop(42 as never), "INVALID_ARGUMENT");
    await rejectsCode(() => a.pickup("xyz"), "INVALID_ARGUMENT");
    // After detach every entry refuses.
    await a.detach();
    await rejectsCode(() => a.drop("x"), "ABORTED");
    throwsCode(() => a.follow(channelAddress(new Uint8Array(32)), { savePath: "/tmp" }), "ABORTED");
  });

  test("closing the session ends a follower's iteration", opts, async () => {
    await using s = await openIsolated({ settings: { dht_read_only: true } });
    await join(s, nodes);
    const fol = await s.use(channels());
    const keys = await createDhtKeypair();
    const f = fol.follow(channelAddress(keys.publicKey), { savePath: dir.join("closing"), pollIntervalMs: 100 });
    const pending = f.next();
    await s.close();
    assert.equal((await pending).done, true);
    assert.ok(f.stopped);
    assert.ok(fol.detached);
  });
});
