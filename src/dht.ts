/**
 * The DHT of a session (`session.dht`): nodes, announces and peer lookups,
 * routing-table stats, state save/load, and BEP 44 items.
 *
 * **BEP 44 values** are any bencodable value ({@link BValue}: integers,
 * strings — UTF-8 encoded —, byte strings as `Uint8Array`, lists and
 * dictionaries). A put bencodes it with `bencode()`; at most 1000 bytes
 * bencoded. A get returns both `value` (decoded with `bdecode()`: byte
 * strings come back as `Uint8Array`, integers as numbers) and `bencoded`
 * (the exact bytes stored, e.g. to hash or compare). So
 * `putImmutable("hello")` stores `5:hello`, and its get returns
 * `value` = the bytes of "hello" (decode with `TextDecoder`).
 *
 * **Mutable items** are signed in the native layer with ed25519: the secret
 * key (64 bytes, libtorrent's expanded form, from
 * {@link createDhtKeypair}) crosses into the shim once per put and is wiped
 * there as soon as the item is signed. The shim first looks the current item
 * up (libtorrent's put callback, on its network thread) and rejects a put
 * whose `seq` is lower than the stored one (or equal with another value) —
 * `DHT_STALE_SEQUENCE` — or whose `cas` differs from the stored sequence
 * number — `DHT_CAS_MISMATCH`. Storing DHT nodes also refuse lower sequence
 * numbers themselves.
 *
 * **Items signed elsewhere** can be checked with {@link verifyMutableItem}
 * and stored again, as they are, with {@link Dht.putMutableSigned}: no
 * secret key is needed, so anyone holding an item (say, a follower of a
 * BEP 46 channel) can keep it alive on the DHT. The signature is verified
 * in the native layer first (`DHT_BAD_SIGNATURE`).
 *
 * @module
 */
import { z } from "zod";
import type { SessionCore } from "./_core.ts";
import { bytes, check, getNative, hex, out32, takeBlob } from "./_native.ts";
import { parse } from "./_validate.ts";
import { bdecode, type BDecoded, bencode, type BValue } from "./bencode.ts";
import { TorrentError } from "./errors.ts";
import type { EventOf, TorrentEvent } from "./events.ts";
import { formatIp, parseIp } from "./ipfilter.ts";

/** An ed25519 key pair for BEP 44 mutable items. */
export interface DhtKeypair {
  /** 32 bytes. */
  publicKey: Uint8Array;
  /** 64 bytes: libtorrent's expanded secret key (not the seed). Keep it secret. */
  secretKey: Uint8Array;
  /** The 32-byte seed the pair derives from (the same seed gives the same pair). */
  seed: Uint8Array;
}

/** The routing table of a session's DHT node. */
export interface DhtStats {
  /** Live nodes in the routing table. */
  nodes: number;
  /** Replacement nodes (heard of, not yet confirmed). */
  replacements: number;
  /** Buckets in the routing table. */
  buckets: number;
  /** Lookups running now. */
  activeLookups: number;
  /** This node's id, 40 hex characters ("" while the DHT is off). */
  nodeId: string;
}

/** Result of {@link Dht.putImmutable}. */
export interface DhtImmutablePut {
  /** The item's target: SHA-1 of the bencoded value, 40 hex characters. */
  target: string;
  /** DHT nodes that stored the item (0: none did). */
  numSuccess: number;
}

/** An immutable item found by {@link Dht.getImmutable}. */
export interface DhtImmutableItem {
  /** The value, decoded (byte strings as Uint8Array). */
  value: BDecoded;
  /** The value exactly as stored (bencoded). */
  bencoded: Uint8Array;
}

/** Options of {@link Dht.putMutable}. */
export interface DhtMutablePutOptions {
  /** 32-byte ed25519 public key. */
  publicKey: Uint8Array;
  /** 64-byte secret key of `publicKey` (from {@link createDhtKeypair}). */
  secretKey: Uint8Array;
  /** Ignored (present so a {@link DhtKeypair} can be spread in: `{ ...keys, value }`). */
  seed?: Uint8Array;
  /** The value (bencodable; at most 1000 bytes bencoded). */
  value: BValue;
  /** Salt (BEP 44): up to 64 bytes; a string is UTF-8 encoded. Default none. */
  salt?: string | Uint8Array;
  /** Sequence number, 0..2^53-1. Default: one more than the stored item's, or 1 for a new item. */
  seq?: number;
  /** Compare-and-swap: store only if the stored item's sequence number is exactly this. */
  cas?: number;
}

/** Result of {@link Dht.putMutable}. */
export interface DhtMutablePut {
  /** Target of the item: SHA-1(publicKey + salt), 40 hex characters. */
  target: string;
  /** The sequence number stored. */
  seq: number;
  /** The 64-byte signature stored with it. */
  signature: Uint8Array;
  /** DHT nodes that stored the item (0: none did). */
  numSuccess: number;
}

/** A mutable item found by {@link Dht.getMutable}. */
export interface DhtMutableItem {
  /** The value, decoded (byte strings as Uint8Array). */
  value: BDecoded;
  /** The value exactly as stored (bencoded). */
  bencoded: Uint8Array;
  /** Its sequence number. */
  seq: number;
  /** Its 64-byte ed25519 signature. */
  signature: Uint8Array;
  /** The 32-byte public key it is stored under. */
  publicKey: Uint8Array;
  /** The salt it is stored under (empty: none). */
  salt: Uint8Array;
}

/**
 * A BEP 44 mutable item with its signature, as {@link Dht.getMutable}
 * returns it (a {@link DhtMutableItem} is one): what
 * {@link verifyMutableItem} checks and {@link Dht.putMutableSigned} stores.
 */
export interface DhtSignedItem {
  /** 32-byte ed25519 public key. */
  publicKey: Uint8Array;
  /** 64-byte ed25519 signature over salt, seq and the bencoded value (BEP 44). */
  signature: Uint8Array;
  /** Sequence number, 0..2^53-1. */
  seq: number;
  /** Salt, up to 64 bytes (a string is UTF-8 encoded). Default none. */
  salt?: string | Uint8Array;
  /** The value bencoded, as signed. Give this or `value`. */
  bencoded?: Uint8Array;
  /** The value (bencoded with `bencode()` when `bencoded` is absent; ignored otherwise). */
  value?: unknown;
}

/** Time limit of a DHT request, in milliseconds. */
export interface DhtWaitOptions {
  /** Reject with TIMEOUT after this many ms (1..600000). Default 60000 (getPeers: 30000). */
  timeoutMs?: number;
}

const BTX_DHT_ANNOUNCE_SEED = 1;
const BTX_E_DHT_BAD_SIGNATURE = 17;
const BTX_DHT_PUT_SEQ = 1;
const BTX_DHT_PUT_CAS = 2;
const MAX_ITEM = 1000;
const MAX_SALT = 64;

const u8 = (n: number, what: string) =>
  z.instanceof(Uint8Array).refine((b) => b.length === n, { message: `${what} must be ${n} bytes` });
const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const WaitSchema = z.object({ timeoutMs: z.number().int().min(1).max(600_000).optional() }).strict();
const InfoHashSchema = z.union([
  z.string().regex(/^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/, "an info-hash is 40 (v1) or 64 (v2) hex characters"),
  u8(20, "an info-hash"),
]);
const TargetSchema = z.union([
  z.string().regex(/^[0-9a-fA-F]{40}$/, "a target is 40 hex characters"),
  u8(20, "a target"),
]);
const SaltSchema = z.union([z.string(), z.instanceof(Uint8Array)]).optional();
const EndpointSchema = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/, "must be ip:port or [ipv6]:port");
const AnnounceSchema = z.object({
  port: z.number().int().min(0).max(65535).optional(),
  seed: z.boolean().optional(),
}).strict();
const PutMutableSchema = z.object({
  publicKey: u8(32, "publicKey"),
  secretKey: u8(64, "secretKey"),
  seed: u8(32, "seed").optional(),
  value: z.unknown(),
  salt: SaltSchema,
  seq: seqSchema.optional(),
  cas: seqSchema.optional(),
}).strict();

const SignedItemSchema = z.object({
  publicKey: u8(32, "publicKey"),
  signature: u8(64, "signature"),
  seq: seqSchema,
  salt: SaltSchema,
  bencoded: z.instanceof(Uint8Array).optional(),
  value: z.unknown().optional(),
  // Other fields of a DhtMutableItem pass through unused.
}).loose();

/** The parts of a signed item as the shim takes them. */
function signedParts(item: DhtSignedItem, where: string) {
  const p = parse(SignedItemSchema, item, where);
  const salt = saltBytes(p.salt, where);
  let v: Uint8Array;
  if (p.bencoded !== undefined) {
    if (p.bencoded.length === 0 || p.bencoded.length > MAX_ITEM) {
      throw new TorrentError(
        "INVALID_ARGUMENT",
        `${where}: bencoded is ${p.bencoded.length} bytes; BEP 44 values are 1..${MAX_ITEM}`,
      );
    }
    v = p.bencoded;
  } else v = encodeValue(p.value, where);
  return { publicKey: p.publicKey, signature: p.signature, seq: new BigInt64Array([BigInt(p.seq)]), salt, v };
}

function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

/** 20 bytes of an info-hash or target given as hex or bytes (a v2 hash: its first 20 bytes, as the DHT uses). */
function hash20(h: string | Uint8Array): Uint8Array {
  return typeof h === "string" ? fromHex(h.slice(0, 40)) : h;
}

function saltBytes(salt: string | Uint8Array | undefined, where: string): Uint8Array {
  const b = salt === undefined ? new Uint8Array(0) : typeof salt === "string" ? bytes(salt) : salt;
  if (b.length > MAX_SALT) {
    throw new TorrentError("INVALID_ARGUMENT", `${where}: salt is ${b.length} bytes; BEP 44 allows at most 64`);
  }
  return b;
}

function encodeValue(value: unknown, where: string): Uint8Array {
  if (value === undefined || value === null) {
    throw new TorrentError("INVALID_ARGUMENT", `${where}: value is required (a bencodable value)`);
  }
  let b: Uint8Array;
  try {
    b = bencode(value as BValue);
  } catch (e) {
    throw new TorrentError("INVALID_ARGUMENT", `${where}: value is not bencodable: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (b.length > MAX_ITEM) {
    throw new TorrentError(
      "INVALID_ARGUMENT",
      `${where}: value is ${b.length} bytes bencoded; BEP 44 allows at most ${MAX_ITEM}`,
    );
  }
  return b;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** "ip:port" / "[v6]:port" → parts and libtorrent's spelling of it. */
function parseEndpoint(ep: string, where: string): { host: string; port: number; key: string } {
  const e = parse(EndpointSchema, ep, where);
  const i = e.lastIndexOf(":");
  const host = e.startsWith("[") ? e.slice(1, i - 1) : e.slice(0, i);
  const port = Number(e.slice(i + 1));
  const ip = parseIp(host);
  if (!ip) throw new TorrentError("INVALID_ARGUMENT", `${where}: "${host}" is not a numeric IP address`);
  if (port < 1 || port > 65535) throw new TorrentError("INVALID_ARGUMENT", `${where}: port must be 1..65535`);
  const text = formatIp(ip.family, ip.bytes);
  return { host: text, port, key: ip.family === 6 ? `[${text}]:${port}` : `${text}:${port}` };
}

/**
 * An ed25519 key pair for BEP 44 mutable items: random, or derived from a
 * 32-byte `seed` (the same seed always gives the same pair).
 * @throws TorrentError INVALID_ARGUMENT (seed not 32 bytes)
 *
 * @example Make a key pair and publish under it
 * ```ts
 * import { createDhtKeypair, Session } from "./mod.ts";
 * const keys = await createDhtKeypair();
 * await using session = await Session.open({ profile: "isolated" });
 * const put = await session.dht.putMutable({ ...keys, value: "hello", salt: "greeting" });
 * console.log(put.seq, put.numSuccess);
 * ```
 */
export async function createDhtKeypair(seed?: Uint8Array): Promise<DhtKeypair> {
  const s = parse(u8(32, "seed").optional(), seed, "createDhtKeypair");
  const native = await getNative();
  const publicKey = new Uint8Array(32), secretKey = new Uint8Array(64), outSeed = new Uint8Array(32);
  check(native.sym, native.sym.btx_dht_keypair(s ?? null, publicKey, secretKey, outSeed), 0, "createDhtKeypair");
  return { publicKey, secretKey, seed: outSeed };
}

/**
 * Checks a BEP 44 mutable item's ed25519 signature (over its salt, seq and
 * bencoded value) in the native layer. Resolves true when it verifies,
 * false when it does not (a forged or altered item).
 * @throws TorrentError INVALID_ARGUMENT (bad key or signature size, seq out
 * of range, salt over 64 bytes, a value that is not bencode or over 1000 bytes)
 *
 * @example Check an item got from the DHT
 * ```ts
 * import { Session, verifyMutableItem } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * const item = await session.dht.getMutable(new Uint8Array(32), "salt");
 * if (item) console.log(await verifyMutableItem(item)); // true: libtorrent checked it too
 * ```
 */
export async function verifyMutableItem(item: DhtSignedItem): Promise<boolean> {
  const p = signedParts(item, "verifyMutableItem");
  const native = await getNative();
  const rc = native.sym.btx_dht_verify_mutable(p.publicKey, p.signature, p.seq, p.salt, p.salt.length, p.v, p.v.length);
  if (rc === BTX_E_DHT_BAD_SIGNATURE) return false;
  check(native.sym, rc, 0, "verifyMutableItem");
  return true;
}

/**
 * A session's DHT: `session.dht`. Requests return promises that settle on
 * the matching event; the same events reach `session.events()`.
 *
 * @example Store and fetch an immutable item
 * ```ts
 * import { Session } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated", dhtBootstrap: ["127.0.0.1:6881"] });
 * const { target } = await session.dht.putImmutable({ hello: "world" });
 * const item = await session.dht.getImmutable(target);
 * console.log(item?.value);
 * ```
 */
export class Dht {
  readonly #core: SessionCore;

  /** @internal Made by `session.dht`. */
  constructor(core: SessionCore) {
    this.#core = core;
  }

  get #sym() {
    return this.#core.native.sym;
  }

  /**
   * Waits for the first event of `type` that `pred` accepts (subscribed
   * before `start` runs), or rejects with TIMEOUT / SESSION_CLOSED.
   */
  async #request<K extends TorrentEvent["type"]>(
    type: K,
    pred: (ev: EventOf<K>) => boolean,
    start: () => void,
    timeoutMs: number,
    what: string,
  ): Promise<EventOf<K>> {
    const stream = this.#core.hub.subscribe((ev) => ev.type === type && pred(ev as EventOf<K>));
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      start();
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new TorrentError("TIMEOUT", `${what}: no answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      const r = await Promise.race([stream.next(), timeout]);
      if (r.done) throw new TorrentError("SESSION_CLOSED", `${what}: the session closed first`);
      return r.value as EventOf<K>;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      await stream.return();
    }
  }

  /**
   * Adds a DHT node ("ip:port" or "[ipv6]:port"; numeric, loopback on an
   * isolated session). It is pinged and, if it answers, enters the routing
   * table.
   * @throws TorrentError INVALID_ARGUMENT, SESSION_CLOSED
   */
  addNode(endpoint: string): void {
    this.#core.ensureOpen();
    const e = parseEndpoint(endpoint, "dht.addNode");
    const h = bytes(e.host);
    this.#core.check(this.#sym.btx_dht_add_node(this.#core.handle, h, h.length, e.port), "dht.addNode");
  }

  /**
   * Pings a DHT node; resolves with its node id (40 hex characters) when it
   * answers — the node is then in this session's routing table.
   * @throws TorrentError INVALID_ARGUMENT, TIMEOUT (no answer), ENGINE (DHT off), SESSION_CLOSED
   */
  async ping(endpoint: string, options: DhtWaitOptions = {}): Promise<{ nodeId: string }> {
    this.#core.ensureOpen();
    const e = parseEndpoint(endpoint, "dht.ping");
    const o = parse(WaitSchema, options, "dht.ping");
    const h = bytes(e.host);
    const ev = await this.#request(
      "dht_direct_response",
      (ev) => ev.endpoint === e.key,
      () => this.#core.check(this.#sym.btx_dht_ping(this.#core.handle, h, h.length, e.port), "dht.ping"),
      o.timeoutMs ?? 60_000,
      "dht.ping",
    );
    if (ev.timedOut) throw new TorrentError("TIMEOUT", `dht.ping: ${e.key} did not answer`);
    return { nodeId: ev.nodeId };
  }

  /**
   * Announces on the DHT that this session has peers of `infoHash` (40 hex
   * characters or 20 bytes; a 64-character v2 hash is announced by its first
   * 20 bytes, as libtorrent does). `port` 0 or absent: the port the DHT
   * packets come from. Torrents in the session are announced by libtorrent
   * on its own; this is for custom use.
   * @throws TorrentError INVALID_ARGUMENT, ENGINE (DHT off), SESSION_CLOSED
   */
  announce(infoHash: string | Uint8Array, options: { port?: number; seed?: boolean } = {}): void {
    this.#core.ensureOpen();
    const ih = hash20(parse(InfoHashSchema, infoHash, "dht.announce"));
    const o = parse(AnnounceSchema, options, "dht.announce");
    this.#core.check(
      this.#sym.btx_dht_announce(this.#core.handle, ih, o.port ?? 0, o.seed ? BTX_DHT_ANNOUNCE_SEED : 0),
      "dht.announce",
    );
  }

  /**
   * Looks up peers of `infoHash` on the DHT. Resolves with the peers
   * ("ip:port") of the first node that knows some; every reply also arrives
   * as a `dht_get_peers_reply` event. A DHT lookup has no end event, so
   * "nobody knows peers" is a TIMEOUT (default 30 s).
   * @throws TorrentError INVALID_ARGUMENT, TIMEOUT, ENGINE (DHT off), SESSION_CLOSED
   */
  async getPeers(infoHash: string | Uint8Array, options: DhtWaitOptions = {}): Promise<string[]> {
    this.#core.ensureOpen();
    const ih = hash20(parse(InfoHashSchema, infoHash, "dht.getPeers"));
    const o = parse(WaitSchema, options, "dht.getPeers");
    const key = hex(ih);
    const ev = await this.#request(
      "dht_get_peers_reply",
      (ev) => ev.infoHash === key && ev.numPeers > 0,
      () => this.#core.check(this.#sym.btx_dht_get_peers(this.#core.handle, ih), "dht.getPeers"),
      o.timeoutMs ?? 30_000,
      "dht.getPeers",
    );
    return [...new Set(ev.peers)];
  }

  /**
   * The routing table now: live nodes, replacements, buckets, lookups.
   * @throws TorrentError TIMEOUT, SESSION_CLOSED
   */
  async stats(options: DhtWaitOptions = {}): Promise<DhtStats> {
    this.#core.ensureOpen();
    const o = parse(WaitSchema, options, "dht.stats");
    const ev = await this.#request(
      "dht_stats",
      () => true,
      () => this.#core.check(this.#sym.btx_dht_stats(this.#core.handle), "dht.stats"),
      o.timeoutMs ?? 60_000,
      "dht.stats",
    );
    return {
      nodes: ev.nodes,
      replacements: ev.replacements,
      buckets: ev.buckets,
      activeLookups: ev.activeLookups,
      nodeId: /^0+$/.test(ev.nodeId) ? "" : ev.nodeId,
    };
  }

  /**
   * The DHT state — this node's id and the nodes it knows — as bytes to
   * give to {@link Dht.loadState} later (in this or another session), so a
   * restart need not bootstrap from scratch.
   * @throws TorrentError SESSION_CLOSED
   */
  saveState(): Uint8Array {
    this.#core.ensureOpen();
    const size = new Uint32Array(1);
    this.#core.check(this.#sym.btx_dht_save_state(this.#core.handle, out32, size), "dht.saveState");
    return takeBlob(this.#sym, out32[0], size[0]);
  }

  /**
   * Loads a state from {@link Dht.saveState} and restarts this session's DHT
   * node with it: it takes the saved node id and contacts the saved nodes
   * (an isolated session keeps only loopback ones). Items this node stored
   * for others are dropped by the restart.
   * @throws TorrentError INVALID_ARGUMENT (not a saved DHT state), SESSION_CLOSED
   */
  loadState(state: Uint8Array): void {
    this.#core.ensureOpen();
    const s = parse(z.instanceof(Uint8Array), state, "dht.loadState");
    this.#core.check(this.#sym.btx_dht_load_state(this.#core.handle, s, s.length), "dht.loadState");
  }

  /**
   * Stores an immutable item (BEP 44); resolves when the put is done with
   * its target (SHA-1 of the bencoded value) and how many nodes stored it.
   * @throws TorrentError INVALID_ARGUMENT (not bencodable, over 1000 bytes), TIMEOUT, ENGINE (DHT off), SESSION_CLOSED
   */
  async putImmutable(value: BValue, options: DhtWaitOptions = {}): Promise<DhtImmutablePut> {
    this.#core.ensureOpen();
    const o = parse(WaitSchema, options, "dht.putImmutable");
    const v = encodeValue(value, "dht.putImmutable");
    const targetBytes = new Uint8Array(20);
    let target = "";
    const ev = await this.#request(
      "dht_put",
      (ev) => ev.publicKey === "" && ev.target === target,
      () => {
        this.#core.check(
          this.#sym.btx_dht_put_immutable(this.#core.handle, v, v.length, targetBytes),
          "dht.putImmutable",
        );
        target = hex(targetBytes);
      },
      o.timeoutMs ?? 60_000,
      "dht.putImmutable",
    );
    return { target, numSuccess: ev.numSuccess };
  }

  /**
   * Looks up an immutable item by target (40 hex characters or 20 bytes);
   * resolves with it, or null when no node has it.
   * @throws TorrentError INVALID_ARGUMENT, TIMEOUT, ENGINE (DHT off), SESSION_CLOSED
   */
  async getImmutable(target: string | Uint8Array, options: DhtWaitOptions = {}): Promise<DhtImmutableItem | null> {
    this.#core.ensureOpen();
    const t = hash20(parse(TargetSchema, target, "dht.getImmutable"));
    const o = parse(WaitSchema, options, "dht.getImmutable");
    const key = hex(t);
    const ev = await this.#request(
      "dht_immutable_item",
      (ev) => ev.target === key,
      () => this.#core.check(this.#sym.btx_dht_get_immutable(this.#core.handle, t), "dht.getImmutable"),
      o.timeoutMs ?? 60_000,
      "dht.getImmutable",
    );
    if (ev.value.length === 0) return null;
    return { value: bdecode(ev.value), bencoded: ev.value };
  }

  /**
   * Stores a mutable item (BEP 44) signed with `secretKey`. The current item
   * is looked up first; the put is refused if `seq` is lower than the stored
   * one (or equal with another value) or `cas` does not match the stored
   * sequence number. Resolves when the put is done.
   * @throws TorrentError INVALID_ARGUMENT (bad key sizes, a secret key not
   * of `publicKey`, value not bencodable or over 1000 bytes, salt over 64
   * bytes, bad seq/cas), DHT_STALE_SEQUENCE, DHT_CAS_MISMATCH, TIMEOUT,
   * ENGINE (DHT off), SESSION_CLOSED
   */
  async putMutable(item: DhtMutablePutOptions, options: DhtWaitOptions = {}): Promise<DhtMutablePut> {
    this.#core.ensureOpen();
    const p = parse(PutMutableSchema, item, "dht.putMutable");
    const o = parse(WaitSchema, options, "dht.putMutable");
    const v = encodeValue(p.value, "dht.putMutable");
    const salt = saltBytes(p.salt, "dht.putMutable");
    const seqCas = new BigInt64Array([BigInt(p.seq ?? 0), BigInt(p.cas ?? 0)]);
    const flags = (p.seq !== undefined ? BTX_DHT_PUT_SEQ : 0) | (p.cas !== undefined ? BTX_DHT_PUT_CAS : 0);
    const request = new Uint32Array(1);
    const ev = await this.#request(
      "dht_put",
      (ev) => ev.requestId === request[0] && request[0] !== 0,
      () =>
        this.#core.check(
          this.#sym.btx_dht_put_mutable(
            this.#core.handle,
            p.publicKey,
            p.secretKey,
            v,
            v.length,
            salt,
            salt.length,
            seqCas,
            flags,
            request,
          ),
          "dht.putMutable",
        ),
      o.timeoutMs ?? 60_000,
      "dht.putMutable",
    );
    if (ev.error === "DHT_STALE_SEQUENCE") {
      throw new TorrentError(
        "DHT_STALE_SEQUENCE",
        `dht.putMutable: seq ${p.seq} is not above the stored item's ${ev.seq}`,
      );
    }
    if (ev.error === "DHT_CAS_MISMATCH") {
      throw new TorrentError(
        "DHT_CAS_MISMATCH",
        `dht.putMutable: cas ${p.cas} does not match the stored item's sequence number`,
      );
    }
    return { target: ev.target, seq: ev.seq, signature: fromHex(ev.signature), numSuccess: ev.numSuccess };
  }

  /**
   * Stores a mutable item signed elsewhere, as it is: its public key, salt,
   * seq, value and signature (e.g. an item from {@link Dht.getMutable}). No
   * secret key is needed — this is how a holder of an item keeps it alive
   * on the DHT. The signature is checked first; the current item is then
   * looked up and the put refused if the DHT already holds a higher seq (or
   * the same seq with another value): it is left as found. Resolves when
   * the put is done.
   * @throws TorrentError INVALID_ARGUMENT (sizes, seq, value), DHT_BAD_SIGNATURE
   * (the signature does not verify: nothing is put), DHT_STALE_SEQUENCE,
   * TIMEOUT, ENGINE (DHT off), SESSION_CLOSED
   *
   * @example Re-publish the item another session stored
   * ```ts
   * import { Session } from "./mod.ts";
   * await using session = await Session.open({ profile: "isolated", dhtBootstrap: ["127.0.0.1:6881"] });
   * const item = await session.dht.getMutable(new Uint8Array(32), "salt");
   * if (item) console.log((await session.dht.putMutableSigned(item)).numSuccess);
   * ```
   */
  async putMutableSigned(item: DhtSignedItem, options: DhtWaitOptions = {}): Promise<DhtMutablePut> {
    this.#core.ensureOpen();
    const p = signedParts(item, "dht.putMutableSigned");
    const o = parse(WaitSchema, options, "dht.putMutableSigned");
    const request = new Uint32Array(1);
    const ev = await this.#request(
      "dht_put",
      (ev) => ev.requestId === request[0] && request[0] !== 0,
      () =>
        this.#core.check(
          this.#sym.btx_dht_put_mutable_signed(
            this.#core.handle,
            p.publicKey,
            p.signature,
            p.seq,
            p.salt,
            p.salt.length,
            p.v,
            p.v.length,
            request,
          ),
          "dht.putMutableSigned",
        ),
      o.timeoutMs ?? 60_000,
      "dht.putMutableSigned",
    );
    if (ev.error === "DHT_STALE_SEQUENCE") {
      throw new TorrentError(
        "DHT_STALE_SEQUENCE",
        `dht.putMutableSigned: the DHT holds seq ${ev.seq}, newer than (or conflicting with) seq ${item.seq}`,
      );
    }
    return { target: ev.target, seq: ev.seq, signature: fromHex(ev.signature), numSuccess: ev.numSuccess };
  }

  /**
   * Looks up a mutable item by public key (32 bytes) and salt; resolves
   * with the newest version the DHT has (highest seq, signature checked),
   * or null when no node has one.
   * @throws TorrentError INVALID_ARGUMENT, TIMEOUT, ENGINE (DHT off), SESSION_CLOSED
   */
  async getMutable(
    publicKey: Uint8Array,
    salt?: string | Uint8Array,
    options: DhtWaitOptions = {},
  ): Promise<DhtMutableItem | null> {
    this.#core.ensureOpen();
    const pk = parse(u8(32, "publicKey"), publicKey, "dht.getMutable");
    const s = saltBytes(parse(SaltSchema, salt, "dht.getMutable"), "dht.getMutable");
    const o = parse(WaitSchema, options, "dht.getMutable");
    const key = hex(pk);
    const ev = await this.#request(
      "dht_mutable_item",
      (ev) => ev.authoritative === 1 && ev.publicKey === key && equalBytes(ev.salt, s),
      () => this.#core.check(this.#sym.btx_dht_get_mutable(this.#core.handle, pk, s, s.length), "dht.getMutable"),
      o.timeoutMs ?? 60_000,
      "dht.getMutable",
    );
    if (ev.value.length === 0) return null;
    return {
      value: bdecode(ev.value),
      bencoded: ev.value,
      seq: ev.seq,
      signature: fromHex(ev.signature),
      publicKey: fromHex(ev.publicKey),
      salt: ev.salt,
    };
  }
}
