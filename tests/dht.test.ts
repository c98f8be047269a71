// A private DHT of four isolated sessions on 127.0.0.1 (each its own port):
// routing tables, announces and peer lookups, BEP 44 immutable and mutable
// items (signatures checked independently with node:crypto), stale and CAS
// puts refused, bad input refused, a torrent found over the DHT alone,
// bootstrapping a newcomer and saving / loading the DHT state.
//
// The swarm: four sessions, then every node pings every other one. A ping
// resolves when the node answered, which puts it in the pinger's routing
// table — so the tables are full when the pings are done, no waiting.
// (A node given in `dhtBootstrap` is a "router" to libtorrent: used to start
// lookups, never kept in the routing table; the newcomer test uses that.)
// A lookup completes only when every node it queried answered or timed out
// (~15 s), so a session that leaves must not stay in the swarm's tables.
// Sessions that come and go run with `dht_read_only` (BEP 43), which keeps
// them out while they only look things up; the ones that announce or put
// (the torrent test's seeder and leecher) are kept by the swarm anyway, so
// that test runs last.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, createPublicKey, verify } from "node:crypto";
import {
  bdecode,
  bencode,
  type BValue,
  createDhtKeypair,
  type Session,
  type TorrentEvent,
  verifyMutableItem,
} from "../mod.ts";
import {
  addSeed,
  assertSameTree,
  makeFixture,
  openIsolated,
  rejectsCode,
  TempDir,
  throwsCode,
  TIMEOUT,
  waitFor,
} from "./_helpers.ts";

// A DHT lookup that loses one answer (say, under heavy CPU load) completes
// only after that query's RPC timeout (~15 s): allow for one such stall.
const opts = { timeout: TIMEOUT.transfer };
const enc = new TextEncoder();
const ep = (s: Session) => `127.0.0.1:${s.listenPort}`;

/** Pings every node of `nodes` from `s`: each answer puts the node in `s`'s routing table. */
async function join(s: Session, nodes: Session[]): Promise<void> {
  await Promise.all(nodes.filter((n) => n !== s).map((n) => s.dht.ping(ep(n))));
}

/** A session that comes and goes: a read-only DHT node (BEP 43) the swarm does not keep. */
function openTransient(options: { dhtBootstrap?: string[] } = {}): Promise<Session> {
  return openIsolated({ ...options, settings: { dht_read_only: true } });
}

/** Verifies a BEP 44 mutable-item signature with node:crypto (independent of libtorrent). */
function verifyBep44(
  publicKey: Uint8Array,
  signature: Uint8Array,
  salt: Uint8Array,
  seq: number,
  bencoded: Uint8Array,
): boolean {
  const parts: Uint8Array[] = [];
  if (salt.length) parts.push(enc.encode(`4:salt${salt.length}:`), salt);
  parts.push(enc.encode(`3:seqi${seq}e1:v`), bencoded);
  const msg = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    msg.set(p, off);
    off += p.length;
  }
  const spki = new Uint8Array([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, ...publicKey]);
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  return verify(null, msg, key, signature);
}

const text = (v: unknown) => new TextDecoder().decode(v as Uint8Array);

describe("a private DHT of four isolated sessions on loopback", () => {
  const nodes: Session[] = [];
  let stored: { target: string; value: BValue } | undefined;

  before(async () => {
    for (let i = 0; i < 4; i++) nodes.push(await openIsolated());
    await Promise.all(nodes.map((n) => join(n, nodes)));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  test("after the pings every node's routing table holds the three others", opts, async () => {
    const stats = await Promise.all(nodes.map((n) => n.dht.stats()));
    for (const [i, st] of stats.entries()) {
      assert.equal(st.nodes, 3, `node ${i}: ${JSON.stringify(st)}`);
      assert.match(st.nodeId, /^[0-9a-f]{40}$/);
    }
    assert.equal(new Set(stats.map((s) => s.nodeId)).size, 4, "four distinct node ids");
    // The ping answer is the pinged node's id.
    const pong = await nodes[0].dht.ping(ep(nodes[2]));
    assert.equal(pong.nodeId, stats[2].nodeId);
  });

  test("an immutable item put on one node is got on another", opts, async () => {
    const value = { name: "torrentxt", list: [1, 2, enc.encode("three")] };
    const puts = nodes[1].events({ types: ["dht_put"] });
    const put = await nodes[1].dht.putImmutable(value);
    const bencoded = bencode(value);
    assert.equal(put.target, createHash("sha1").update(bencoded).digest("hex"), "target = SHA-1 of the bencoded value");
    assert.ok(put.numSuccess >= 1, `stored on ${put.numSuccess} nodes`);
    const ev = await waitFor(puts, (e) => e.type === "dht_put");
    assert.equal(ev.type === "dht_put" && ev.target, put.target, "the dht_put event carries the target");
    await puts.return();
    stored = { target: put.target, value };

    const gets = nodes[3].events({ types: ["dht_immutable_item"] });
    const item = await nodes[3].dht.getImmutable(put.target);
    assert.ok(item, "found");
    assert.deepEqual(item.bencoded, bencoded);
    const v = item.value as { name: Uint8Array; list: [number, number, Uint8Array] };
    assert.equal(text(v.name), "torrentxt");
    assert.equal(v.list[0], 1);
    assert.equal(text(v.list[2]), "three");
    const gev = await waitFor(gets, (e) => e.type === "dht_immutable_item");
    assert.deepEqual(gev.type === "dht_immutable_item" && gev.value, bencoded, "the event carries the bencoded value");
    await gets.return();

    // Absent items resolve null.
    assert.equal(await nodes[2].dht.getImmutable("00".repeat(20)), null);
    // A value of exactly 1000 bytes bencoded is the BEP 44 limit, and fits.
    const big = new Uint8Array(996).fill(7); // "996:" + 996 bytes = 1000
    const bigPut = await nodes[0].dht.putImmutable(big);
    assert.ok(bigPut.numSuccess >= 1);
    const bigGot = await nodes[2].dht.getImmutable(bigPut.target);
    assert.deepEqual(bigGot?.value, big);
  });

  test("mutable items with a salt: put, get elsewhere, a higher seq replaces, signatures verify", opts, async () => {
    const keys = await createDhtKeypair();
    const salt = "profile";
    const put1 = await nodes[1].dht.putMutable({ ...keys, value: { n: 1, msg: "first" }, salt });
    assert.equal(put1.seq, 1, "a new item starts at seq 1");
    assert.ok(put1.numSuccess >= 1);
    assert.equal(
      put1.target,
      createHash("sha1").update(keys.publicKey).update(enc.encode(salt)).digest("hex"),
      "target = SHA-1(public key + salt)",
    );
    const got1 = await nodes[3].dht.getMutable(keys.publicKey, salt);
    assert.ok(got1, "found");
    assert.equal(got1.seq, 1);
    assert.deepEqual(got1.publicKey, keys.publicKey);
    assert.equal(text(got1.salt), salt);
    assert.deepEqual(got1.signature, put1.signature);
    const v1 = got1.value as { n: number; msg: Uint8Array };
    assert.equal(v1.n, 1);
    assert.equal(text(v1.msg), "first");
    assert.ok(verifyBep44(keys.publicKey, got1.signature, got1.salt, got1.seq, got1.bencoded), "signature verifies");
    assert.equal(
      verifyBep44(keys.publicKey, got1.signature, got1.salt, got1.seq + 1, got1.bencoded),
      false,
      "the check can fail",
    );

    // Another salt, or none, is another item.
    assert.equal(await nodes[2].dht.getMutable(keys.publicKey, "other"), null);
    assert.equal(await nodes[2].dht.getMutable(keys.publicKey), null);

    // A higher seq from another node replaces it everywhere.
    const put2 = await nodes[2].dht.putMutable({ ...keys, value: "second", salt, seq: 7 });
    assert.equal(put2.seq, 7);
    const got2 = await nodes[0].dht.getMutable(keys.publicKey, salt);
    assert.equal(got2?.seq, 7);
    assert.equal(text(got2?.value), "second");
    assert.ok(verifyBep44(keys.publicKey, got2!.signature, got2!.salt, 7, got2!.bencoded));
    // Without seq: one more than the stored one.
    const put3 = await nodes[3].dht.putMutable({ ...keys, value: "third", salt });
    assert.equal(put3.seq, 8);
    assert.equal(text((await nodes[1].dht.getMutable(keys.publicKey, salt))?.value), "third");

    // No salt at all.
    const plain = await nodes[0].dht.putMutable({ ...keys, value: 42 });
    assert.equal(plain.seq, 1);
    const gotPlain = await nodes[1].dht.getMutable(keys.publicKey);
    assert.equal(gotPlain?.value, 42);
    assert.equal(gotPlain?.salt.length, 0);
    assert.ok(verifyBep44(keys.publicKey, gotPlain!.signature, gotPlain!.salt, 1, gotPlain!.bencoded));
  });

  test("a put with a stale seq or a wrong CAS is refused and leaves the item as it was", opts, async () => {
    const keys = await createDhtKeypair();
    const salt = enc.encode("counter");
    await nodes[0].dht.putMutable({ ...keys, value: "v5", salt, seq: 5 });
    const events = nodes[1].events({ types: ["dht_put"] });

    const stale = await rejectsCode(
      () => nodes[1].dht.putMutable({ ...keys, value: "older", salt, seq: 3 }),
      "DHT_STALE_SEQUENCE",
    );
    assert.match(stale.message, /5/, "the message names the stored seq");
    const ev = await waitFor(events, (e) => e.type === "dht_put");
    assert.equal(ev.type === "dht_put" && ev.error, "DHT_STALE_SEQUENCE", "the dht_put event reports the refusal");
    await events.return();
    await rejectsCode(
      () => nodes[2].dht.putMutable({ ...keys, value: "same seq, other value", salt, seq: 5 }),
      "DHT_STALE_SEQUENCE",
      "equal seq with another value",
    );
    await rejectsCode(() => nodes[3].dht.putMutable({ ...keys, value: "cas", salt, cas: 4 }), "DHT_CAS_MISMATCH");
    let got = await nodes[3].dht.getMutable(keys.publicKey, salt);
    assert.equal(got?.seq, 5, "still seq 5");
    assert.equal(text(got?.value), "v5", "still the old value");

    // Equal seq with the same value is a refresh, and a matching CAS goes through.
    assert.equal((await nodes[2].dht.putMutable({ ...keys, value: "v5", salt, seq: 5 })).seq, 5);
    const cas = await nodes[3].dht.putMutable({ ...keys, value: "swapped", salt, cas: 5 });
    assert.equal(cas.seq, 6);
    got = await nodes[0].dht.getMutable(keys.publicKey, salt);
    assert.equal(got?.seq, 6);
    assert.equal(text(got?.value), "swapped");
    // CAS on an item that does not exist cannot match.
    const fresh = await createDhtKeypair();
    await rejectsCode(() => nodes[1].dht.putMutable({ ...fresh, value: "x", cas: 0 }), "DHT_CAS_MISMATCH");
    assert.equal(await nodes[2].dht.getMutable(fresh.publicKey), null, "nothing was stored");
  });

  test("an item signed elsewhere is verified and stored again as it is, with no secret key", opts, async () => {
    const keys = await createDhtKeypair();
    const salt = "relay";
    await nodes[0].dht.putMutable({ ...keys, value: "first", salt, seq: 3 });
    const first = await nodes[1].dht.getMutable(keys.publicKey, salt);
    assert.ok(first);
    assert.equal(await verifyMutableItem(first), true);
    // Re-stored by another node: same seq, same signature (nothing re-signed).
    const again = await nodes[2].dht.putMutableSigned(first);
    assert.equal(again.seq, 3);
    assert.deepEqual(again.signature, first.signature);
    assert.ok(again.numSuccess >= 1);
    assert.equal(again.target, createHash("sha1").update(keys.publicKey).update(enc.encode(salt)).digest("hex"));

    // A forged signature is refused before anything is put.
    const forged = { ...first, signature: first.signature.slice() };
    forged.signature[0] ^= 1;
    assert.equal(await verifyMutableItem(forged), false);
    assert.equal(verifyBep44(keys.publicKey, forged.signature, forged.salt, 3, forged.bencoded), false);
    await rejectsCode(() => nodes[2].dht.putMutableSigned(forged), "DHT_BAD_SIGNATURE");
    await rejectsCode(() => nodes[2].dht.putMutableSigned({ ...first, seq: 4 }), "DHT_BAD_SIGNATURE", "another seq");

    // An older item cannot replace a newer one.
    await nodes[0].dht.putMutable({ ...keys, value: "second", salt, seq: 4 });
    await rejectsCode(() => nodes[3].dht.putMutableSigned(first), "DHT_STALE_SEQUENCE");
    const now = await nodes[1].dht.getMutable(keys.publicKey, salt);
    assert.equal(now?.seq, 4);
    assert.equal(text(now?.value), "second");
    await rejectsCode(
      () => nodes[3].dht.putMutableSigned({ ...first, signature: new Uint8Array(64).slice(1) }),
      "INVALID_ARGUMENT",
    );
  });

  test(
    "bad keys, sizes and addresses give INVALID_ARGUMENT; a closed session SESSION_CLOSED; a silent node TIMEOUT",
    opts,
    async () => {
      const s = nodes[0];
      const keys = await createDhtKeypair();
      const other = await createDhtKeypair();
      const seed = new Uint8Array(32).fill(9);
      const a = await createDhtKeypair(seed), b = await createDhtKeypair(seed);
      assert.deepEqual(a.publicKey, b.publicKey, "a seed determines the pair");
      assert.deepEqual(a.secretKey, b.secretKey);
      assert.deepEqual(a.seed, seed);
      assert.notDeepEqual(keys.publicKey, other.publicKey);
      assert.equal(keys.secretKey.length, 64);
      await rejectsCode(() => createDhtKeypair(new Uint8Array(31)), "INVALID_ARGUMENT", "31-byte seed");

      const tooBig = new Uint8Array(997); // "997:" + 997 = 1001 bytes
      await rejectsCode(() => s.dht.putImmutable(tooBig), "INVALID_ARGUMENT", "1001 bytes");
      await rejectsCode(() => s.dht.putImmutable(undefined as never), "INVALID_ARGUMENT", "no value");
      await rejectsCode(() => s.dht.putImmutable(1.5), "INVALID_ARGUMENT", "not an integer");
      await rejectsCode(() => s.dht.putImmutable({ a: null } as never), "INVALID_ARGUMENT", "null inside");
      await rejectsCode(() => s.dht.getImmutable("xyz"), "INVALID_ARGUMENT", "bad target");
      await rejectsCode(() => s.dht.getImmutable(new Uint8Array(19)), "INVALID_ARGUMENT", "19-byte target");

      const put = (o: object) => () => s.dht.putMutable({ ...keys, value: "v", ...o } as never);
      await rejectsCode(put({ publicKey: keys.publicKey.subarray(0, 31) }), "INVALID_ARGUMENT", "31-byte public key");
      await rejectsCode(put({ secretKey: keys.secretKey.subarray(0, 63) }), "INVALID_ARGUMENT", "63-byte secret key");
      const mismatch = await rejectsCode(put({ secretKey: other.secretKey }), "INVALID_ARGUMENT", "another pair's key");
      assert.match(mismatch.message, /does not belong/, "refused by the shim's key check");
      await rejectsCode(put({ salt: new Uint8Array(65) }), "INVALID_ARGUMENT", "65-byte salt");
      await rejectsCode(put({ seq: -1 }), "INVALID_ARGUMENT", "negative seq");
      await rejectsCode(put({ seq: 1.5 }), "INVALID_ARGUMENT", "fractional seq");
      await rejectsCode(put({ cas: 2 ** 53 }), "INVALID_ARGUMENT", "cas over 2^53-1");
      await rejectsCode(put({ value: tooBig }), "INVALID_ARGUMENT", "mutable value over 1000 bytes");
      await rejectsCode(() => s.dht.getMutable(new Uint8Array(33)), "INVALID_ARGUMENT", "33-byte public key");
      await rejectsCode(() => s.dht.getMutable(keys.publicKey, "x".repeat(65)), "INVALID_ARGUMENT", "65-byte salt");

      throwsCode(
        () => s.dht.addNode("10.0.0.1:6881"),
        "INVALID_ARGUMENT",
        "a non-loopback node on an isolated session",
      );
      throwsCode(() => s.dht.addNode("localhost:6881"), "INVALID_ARGUMENT", "a name");
      throwsCode(() => s.dht.addNode("127.0.0.1:0"), "INVALID_ARGUMENT", "port 0");
      throwsCode(() => s.dht.addNode("127.0.0.1:70000"), "INVALID_ARGUMENT", "port over 65535");
      await rejectsCode(() => s.dht.ping("192.168.0.1:6881"), "INVALID_ARGUMENT", "ping off the machine");
      throwsCode(() => s.dht.announce("zz"), "INVALID_ARGUMENT", "bad info-hash");
      throwsCode(() => s.dht.announce("ab".repeat(20), { port: 70000 }), "INVALID_ARGUMENT", "bad port");
      throwsCode(() => s.dht.loadState(enc.encode("garbage")), "INVALID_ARGUMENT", "not bencoded");
      throwsCode(() => s.dht.loadState(bencode({ a: 1 })), "INVALID_ARGUMENT", "no dht state");

      // A request pending when its session closes rejects with SESSION_CLOSED.
      const leaving = await openTransient();
      await join(leaving, nodes);
      const pending = leaving.dht.getPeers("ef".repeat(20)); // nobody announced it: no answer
      await leaving.close();
      await rejectsCode(() => pending, "SESSION_CLOSED", "pending at close");
      await rejectsCode(() => leaving.dht.stats(), "SESSION_CLOSED", "after close");
      throwsCode(() => leaving.ipFilter.clear(), "SESSION_CLOSED", "ip filter after close");

      // No answer within the time given: TIMEOUT (port 9 has no DHT node).
      await rejectsCode(() => s.dht.ping("127.0.0.1:9", { timeoutMs: 300 }), "TIMEOUT", "ping of nobody");
    },
  );

  test("with the DHT off, DHT requests fail with ENGINE", opts, async () => {
    await using off = await openIsolated({ settings: { enable_dht: false } });
    await rejectsCode(() => off.dht.putImmutable("x"), "ENGINE", "put");
    await rejectsCode(() => off.dht.getPeers("ab".repeat(20)), "ENGINE", "getPeers");
    const st = await off.dht.stats();
    assert.equal(st.nodes, 0);
  });

  test("an announced info-hash is found by getPeers on another node", opts, async () => {
    const ih = createHash("sha1").update("announce test").digest("hex");
    const arrived = nodes.slice(0, 3).map((n) => n.events((e) => e.type === "dht_announce" && e.infoHash === ih));
    nodes[3].dht.announce(ih, { port: 4321 });
    // The announce is stored once a node reports it (no event on the announcer).
    const ev = await Promise.race(arrived.map((s) => s.next()));
    const a = ev.value as TorrentEvent & { type: "dht_announce" };
    assert.equal(a.port, 4321);
    assert.equal(a.ip, "127.0.0.1");
    await Promise.all(arrived.map((s) => s.return()));

    const replies = nodes[1].events({ types: ["dht_get_peers_reply"] });
    const peers = await nodes[1].dht.getPeers(ih);
    assert.deepEqual(peers, ["127.0.0.1:4321"]);
    const r = await waitFor(replies, (e) => e.type === "dht_get_peers_reply");
    assert.equal(r.type === "dht_get_peers_reply" && r.infoHash, ih);
    await replies.return();
    // Nobody announced this one: no reply with peers, TIMEOUT.
    await rejectsCode(() => nodes[1].dht.getPeers("cd".repeat(20), { timeoutMs: 1500 }), "TIMEOUT");
  });

  test("a newcomer bootstrapped from one node (dhtBootstrap) reaches an item stored by another", opts, async () => {
    assert.ok(stored, "runs after the immutable put");
    await using newcomer = await openTransient({ dhtBootstrap: [ep(nodes[0])] });
    const events = newcomer.events({ types: ["dht_bootstrap"] });
    await waitFor(events, (e) => e.type === "dht_bootstrap");
    await events.return();
    const st = await newcomer.dht.stats();
    assert.ok(st.nodes >= 1, `the bootstrap filled the routing table: ${JSON.stringify(st)}`);
    const item = await newcomer.dht.getImmutable(stored.target);
    assert.deepEqual(item?.bencoded, bencode(stored.value));
  });

  test("the DHT state saved from one node lets a fresh session rejoin without bootstrap nodes", opts, async () => {
    assert.ok(stored);
    const state = nodes[0].dht.saveState();
    const decoded = bdecode(state) as Record<string, Record<string, unknown>>;
    assert.ok(decoded["dht state"], "a dht state dictionary");
    const nodeId = (await nodes[0].dht.stats()).nodeId;

    await using fresh = await openTransient();
    // Alone, its DHT has nothing to bootstrap from (and never reports a bootstrap).
    assert.equal((await fresh.dht.stats()).nodes, 0, "knows no node before the load");
    const events = fresh.events({ types: ["dht_bootstrap"] });
    fresh.dht.loadState(state);
    await waitFor(events, (e) => e.type === "dht_bootstrap"); // the restarted DHT, from the saved nodes
    await events.return();
    const st = await fresh.dht.stats();
    assert.ok(st.nodes >= 1, `rejoined: ${JSON.stringify(st)}`);
    assert.equal(st.nodeId, nodeId, "the saved node id is taken");
    const item = await fresh.dht.getImmutable(stored.target);
    assert.deepEqual(item?.bencoded, bencode(stored.value));
  });
  test(
    "a torrent downloads between two sessions that found each other over the DHT alone",
    { timeout: TIMEOUT.transfer },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "a.bin": 120_001, "d/b.bin": 33_333 });
      assert.ok(!fx.made.magnet.includes("tr="), "no tracker in the magnet");
      const outDir = dir.join("download");
      {
        await using seeder = await openTransient();
        await using leecher = await openTransient();
        await join(seeder, nodes);
        await join(leecher, nodes);
        const ih = fx.made.infoHash.v1!;
        const announced = nodes.map((n) =>
          n.events((e) => e.type === "dht_announce" && e.infoHash === ih && e.port === seeder.listenPort)
        );
        await addSeed(seeder, fx);
        // libtorrent announces the seeding torrent by itself; wait until a node has it.
        await Promise.race(announced.map((s) => s.next()));
        await Promise.all(announced.map((s) => s.return()));

        const seen: TorrentEvent[] = [];
        const events = leecher.events();
        const t = await leecher.add({ magnet: fx.made.magnet, savePath: outDir }); // no connectPeer
        await waitFor(events, (e) => {
          if (e.torrent === t) seen.push(e);
          if ((e.type === "torrent_error" || e.type === "metadata_failed") && e.torrent === t) {
            throw new Error(`${e.type}: ${e.message}`);
          }
          return e.type === "torrent_finished" && e.torrent === t;
        }, "torrent_finished");
        assert.ok(seen.some((e) => e.type === "dht_reply" && e.numPeers >= 1), "peers came from the DHT");
        assert.ok(
          seen.some((e) => e.type === "peer_connect" && e.peer === `127.0.0.1:${seeder.listenPort}`),
          "connected to the seeder",
        );
        assert.ok(seen.some((e) => e.type === "metadata_received"), "the metadata came from the seeder");
        await events.return();
      }
      assertSameTree(fx.dataDir, dir.join("download", fx.name));
    },
  );
});
