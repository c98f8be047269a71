/**
 * BEP 46 channels: a channel is an ed25519 key (plus an optional salt) whose
 * signed, mutable DHT item (BEP 44) names the channel's newest torrent.
 * Publish releases under your key; follow a channel by its address and get
 * each new release as it appears, added to your session (and downloaded).
 *
 * - **Address**: `magnet:?xs=urn:btpk:<64 hex public key>&s=<hex salt>`
 *   (BEP 46; `s` only with a salt). {@link channelAddress} makes one,
 *   {@link parseChannelAddress} reads one.
 * - **Item**: `{ ih: <20-byte v1 info-hash> }` (BEP 46), signed with the
 *   channel key, stored at target SHA-1(public key + salt) with a sequence
 *   number that increases with every release.
 * - **Release feed**: a second signed item of the same key, salt
 *   SHA-1("torrentxt-channel-feed:" + salt), holding the recent releases
 *   `{ r: [ { ih, n: name, s: seq, t: unix time }, … ] }` newest first,
 *   trimmed to BEP 44's 1000-byte limit.
 * - **Quick drop**: {@link Channels.drop} stores a short text as an
 *   immutable item and gives its 40-character code; {@link Channels.pickup}
 *   gets it back.
 *
 * Followers verify every item (key, signature, sequence number, value) and
 * re-publish the signed items they hold (no secret key needed), so a
 * channel stays on the DHT while anyone follows it.
 *
 * @example Publish a folder and follow it from another session
 * ```ts
 * import { createDhtKeypair, Session } from "../../mod.ts";
 * import { channels } from "./mod.ts";
 * const keys = await createDhtKeypair();
 * await using owner = await Session.open({ profile: "isolated", dhtBootstrap: ["127.0.0.1:6881"] });
 * await using pub = await owner.use(channels());
 * const release = await pub.publish("./my-folder", { keys, salt: "weekly" });
 * console.log(release.address, release.seq); // share the address
 *
 * await using fan = await Session.open({ profile: "isolated", dhtBootstrap: ["127.0.0.1:6881"] });
 * await using ch = await fan.use(channels());
 * for await (const update of ch.follow(release.address, { savePath: "./downloads" })) {
 *   console.log(update.seq, update.infoHash, update.torrent.status().name);
 * }
 * ```
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { z } from "zod";
import {
  bencode,
  createDhtKeypair,
  createTorrent,
  type DhtMutableItem,
  type DhtSignedItem,
  type Plugin,
  type PluginInstance,
  type Session,
  Torrent,
  TorrentError,
  verifyMutableItem,
} from "../../mod.ts";
import {
  cutUtf8,
  decodeFeed,
  decodeValue,
  encodeFeed,
  equalBytes,
  type FeedEntry,
  feedSaltOf,
  formatAddress,
  fromHex,
  infoHashOfValue,
  MAX_NAME,
  parseAddress,
  saltBytes,
  targetOf,
} from "./_format.ts";

/** A release in a channel's feed, newest first. */
export type ChannelRelease = FeedEntry;

/** A channel's parts, from {@link parseChannelAddress}. */
export interface ChannelInfo {
  /** The address, normalised: `magnet:?xs=urn:btpk:<hex>[&s=<hex>]` (lower-case hex, no `dn`). */
  address: string;
  /** 32-byte ed25519 public key. */
  publicKey: Uint8Array;
  /** The salt (empty: none). */
  salt: Uint8Array;
  /** Where the channel item lives: SHA-1(publicKey + salt), 40 hex characters. */
  target: string;
  /** The `dn` display name, when the address has one. */
  name?: string;
}

/** A channel's signed item as held and re-published: a {@link DhtSignedItem} with every part present. */
export interface ChannelItem extends DhtSignedItem {
  /** 32-byte public key (the channel's). */
  publicKey: Uint8Array;
  /** 64-byte ed25519 signature by the owner. */
  signature: Uint8Array;
  /** Sequence number. */
  seq: number;
  /** Salt (empty: none). */
  salt: Uint8Array;
  /** The value bencoded, as signed. */
  bencoded: Uint8Array;
}

/** An ed25519 key pair as {@link createDhtKeypair} makes it (`seed` optional). */
export interface ChannelKeys {
  /** 32 bytes. */
  publicKey: Uint8Array;
  /** 64 bytes (libtorrent's expanded secret key). */
  secretKey: Uint8Array;
  /** 32 bytes; when given, the pair is checked against it. */
  seed?: Uint8Array;
}

/** Options of {@link channels}. */
export interface ChannelsOptions {
  /**
   * How often held items are stored again on the DHT, ms: the publisher's own
   * items and every followed channel's (BEP 44 nodes forget items after about
   * two hours). Default 1 800 000 (30 min); 0: never on a timer
   * (`republish()` still works).
   */
  republishIntervalMs?: number;
  /** Time limit of each DHT request, ms (1..600 000). Default 30 000. */
  timeoutMs?: number;
}

/** What {@link Channels.publish} publishes: a torrent of the session, a path to create one from, or an info-hash. */
export type PublishSource = Torrent | string | { infoHash: string; name?: string };

/** Options of {@link Channels.publish}. */
export interface PublishOptions {
  /** The channel's key pair. */
  keys: ChannelKeys;
  /** The channel's salt (a string is UTF-8 encoded), up to 64 bytes. Default none. */
  salt?: string | Uint8Array;
  /** The channel's address; when given it must be the one of `keys` and `salt` (else CHANNEL_WRONG_KEY). */
  address?: string;
  /** Release name in the feed (cut to 64 bytes). Default: the torrent's name. */
  name?: string;
  /** Sequence number; must be above the channel's current one. Default: the current one + 1 (1 for a new channel). */
  seq?: number;
  /** Releases kept in the feed, 0..64 (0: no feed item). Default 16 (fewer when 1000 bytes do not hold them). */
  feedSize?: number;
  /** For a path: torrent version, "v1" or "hybrid" (BEP 46 carries the v1 info-hash). Default "hybrid". */
  version?: "v1" | "hybrid";
  /** For a path: bytes per piece (a power of two, 16 KiB..256 MiB). Default automatic. */
  pieceSize?: number;
}

/** The result of {@link Channels.publish}. */
export interface PublishedRelease {
  /** The channel's address (share this). */
  address: string;
  /** The sequence number the release was published under. */
  seq: number;
  /** The release's v1 info-hash, 40 hex characters. */
  infoHash: string;
  /** A magnet link of the release itself. */
  magnet: string;
  /** The torrent in this session (created and seeding for a path), when the session has it. */
  torrent: Torrent | undefined;
  /** The signed channel item stored. */
  item: ChannelItem;
  /** The feed as stored, newest first (empty with `feedSize: 0`). */
  feed: ChannelRelease[];
  /** DHT nodes that stored the channel item. */
  numSuccess: number;
}

/** Options of {@link Channels.follow}. */
export interface FollowOptions {
  /** Directory each release's files go in. */
  savePath: string;
  /** Download each new release (default true); false: add it paused. */
  download?: boolean;
  /** Remove the previous release's torrent (its files stay) when a newer one arrives. Default false. */
  replace?: boolean;
  /** How often to look the channel up, ms (100..86 400 000). Default 60 000. */
  pollIntervalMs?: number;
  /** Ignore items up to this sequence number (resume following where you left off). Default 0. */
  afterSeq?: number;
  /** Also fetch the release feed with each update. Default true. */
  feed?: boolean;
}

/** One new release of a followed channel. */
export interface ChannelUpdate {
  /** The channel's address. */
  address: string;
  /** The item's sequence number (each update's is higher than the last). */
  seq: number;
  /** The release's v1 info-hash, 40 hex characters. */
  infoHash: string;
  /** The release, added to the session (downloading unless `download: false`). */
  torrent: Torrent;
  /** The release this one follows, when there was one (removed from the session with `replace: true`). */
  previous: Torrent | undefined;
  /** The verified signed item. */
  item: ChannelItem;
  /** The channel's release feed, newest first ([] when it has none or it could not be fetched). */
  feed: ChannelRelease[];
  /** Where the item came from: a DHT lookup or {@link ChannelFollower.offer}. */
  source: "dht" | "offer";
}

/**
 * A followed channel: an async iterator of {@link ChannelUpdate}s (one per
 * newer release, never an older one). Leaving a `for await` loop (or
 * `return()`) stops following; the torrents stay in the session.
 */
export interface ChannelFollower extends AsyncIterableIterator<ChannelUpdate> {
  /** The channel's address (normalised). */
  readonly address: string;
  /** The channel item's DHT target, 40 hex characters. */
  readonly target: string;
  /** The sequence number held (before the first update: `afterSeq`, default 0). */
  readonly seq: number;
  /** The newest update, once there is one. */
  readonly current: ChannelUpdate | undefined;
  /** The last failure of a background lookup or re-publish (cleared by a success), for diagnostics. */
  readonly lastError: TorrentError | undefined;
  /** True once stopped (by `stop()`, `return()`, detaching the plugin, or the session closing). */
  readonly stopped: boolean;
  /**
   * Looks the channel up now. Resolves with the update when the DHT has a
   * newer item, null when it has none or nothing newer (an older one is
   * answered by re-publishing the held item).
   * @throws TorrentError TIMEOUT, CHANNEL_BAD_VALUE (the owner published something that is not BEP 46),
   *   SESSION_CLOSED, ABORTED (stopped)
   */
  refresh(): Promise<ChannelUpdate | null>;
  /**
   * Applies an item received some other way (a web relay, a file, another
   * peer): verified as {@link verifyChannelItem} does against the held
   * sequence number, then handled like a DHT update.
   * @throws TorrentError CHANNEL_WRONG_KEY, DHT_BAD_SIGNATURE, CHANNEL_STALE_SEQUENCE, CHANNEL_BAD_VALUE,
   *   INVALID_ARGUMENT, ABORTED (stopped)
   */
  offer(item: DhtSignedItem): Promise<ChannelUpdate>;
  /**
   * Stores the held item (and feed) on the DHT again, as signed by the
   * owner. Resolves with the number of nodes that stored the channel item
   * (0 when nothing is held yet).
   * @throws TorrentError DHT_STALE_SEQUENCE (the DHT has a newer item: a lookup is started), TIMEOUT, SESSION_CLOSED
   */
  republish(): Promise<number>;
  /** Stops following (timers, lookups); the torrents stay. Idempotent. */
  stop(): Promise<void>;
  /** The next update; waits for one (done once stopped and every queued update was taken). */
  next(): Promise<IteratorResult<ChannelUpdate>>;
  /** Stops following and drops queued updates (what leaving a `for await` loop calls). */
  return(): Promise<IteratorResult<ChannelUpdate>>;
}

/** The plugin's handle: `await session.use(channels())`. */
export interface Channels extends PluginInstance {
  /**
   * Publishes a release: creates and seeds the torrent when given a path,
   * then stores the signed channel item `{ ih }` with a higher sequence
   * number, and the release feed. The session keeps both items alive
   * (`republishIntervalMs`).
   * @throws TorrentError INVALID_ARGUMENT (bad options, a v2-only torrent), INVALID_CHANNEL_ADDRESS,
   *   CHANNEL_WRONG_KEY (the secret key is not of the public key, or `address` is another channel),
   *   CHANNEL_STALE_SEQUENCE (`seq` not above the channel's), PATH_NOT_FOUND, CREATE_FAILED, TIMEOUT, ENGINE
   *   (DHT off), SESSION_CLOSED, ABORTED (detached)
   */
  publish(source: PublishSource, options: PublishOptions): Promise<PublishedRelease>;
  /**
   * Follows a channel: looks it up now and every `pollIntervalMs`, and
   * yields each newer release, added to the session.
   * @throws TorrentError INVALID_CHANNEL_ADDRESS, INVALID_ARGUMENT (bad options), ABORTED (detached)
   */
  follow(address: string, options: FollowOptions): ChannelFollower;
  /** The channels followed now. */
  readonly following: readonly ChannelFollower[];
  /**
   * Quick drop: stores `text` (UTF-8, or bytes; at most 996 bytes) as an
   * immutable DHT item; resolves with its 40-character code (the item's
   * target, SHA-1 of the bencoded text).
   * @throws TorrentError INVALID_ARGUMENT (not text or too long), ENGINE (no DHT node stored it, or the DHT is off),
   *   TIMEOUT, SESSION_CLOSED
   */
  drop(text: string | Uint8Array): Promise<string>;
  /**
   * Gets a drop back by its code. Resolves with the text, or null when no
   * DHT node has it.
   * @throws TorrentError INVALID_ARGUMENT (not 40 hex characters), CHANNEL_BAD_VALUE (the item is not UTF-8
   *   text), TIMEOUT, SESSION_CLOSED
   */
  pickup(code: string): Promise<string | null>;
  /** Stops every follower and re-publish timer. The torrents stay in the session. */
  detach(): Promise<void>;
}

const DEFAULT_REPUBLISH = 30 * 60_000;
const MAX_DROP = 996; // "996:" + 996 bytes = 1000 bytes bencoded
const MAX_QUEUED = 256;

const u8 = (n: number, what: string) =>
  z.instanceof(Uint8Array).refine((b) => b.length === n, { message: `${what} must be ${n} bytes` });
const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const SaltSchema = z.union([z.string(), z.instanceof(Uint8Array)]).optional();

const OptionsSchema = z.object({
  republishIntervalMs: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  timeoutMs: z.number().int().min(1).max(600_000).optional(),
}).strict();

const KeysSchema = z.object({
  publicKey: u8(32, "keys.publicKey"),
  secretKey: u8(64, "keys.secretKey"),
  seed: u8(32, "keys.seed").optional(),
}).loose();

const PublishSchema = z.object({
  keys: KeysSchema,
  salt: SaltSchema,
  address: z.string().optional(),
  name: z.string().optional(),
  seq: seqSchema.min(1).optional(),
  feedSize: z.number().int().min(0).max(64).optional(),
  version: z.enum(["v1", "hybrid"]).optional(),
  pieceSize: z.number().int().min(16384).max(1 << 28).refine((n) => (n & (n - 1)) === 0, "must be a power of two")
    .optional(),
}).strict();

const FollowSchema = z.object({
  savePath: z.string().min(1),
  download: z.boolean().optional(),
  replace: z.boolean().optional(),
  pollIntervalMs: z.number().int().min(100).max(86_400_000).optional(),
  afterSeq: seqSchema.optional(),
  feed: z.boolean().optional(),
}).strict();

const HEX40 = /^[0-9a-fA-F]{40}$/;

function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ` : "") + i.message).join("; ");
  throw new TorrentError("INVALID_ARGUMENT", `${where}: ${issues}`, { cause: r.error });
}

/**
 * The BEP 46 address of a channel: `magnet:?xs=urn:btpk:<hex public
 * key>&s=<hex salt>` (no `s` without a salt). `name` adds a `dn` display
 * name (ignored when the address is parsed for lookups).
 * @throws TorrentError INVALID_ARGUMENT (a public key not of 32 bytes, a salt over 64 bytes)
 *
 * @example The address of a new channel
 * ```ts
 * import { createDhtKeypair } from "../../mod.ts";
 * import { channelAddress } from "./mod.ts";
 * const keys = await createDhtKeypair();
 * console.log(channelAddress(keys.publicKey, "news")); // magnet:?xs=urn:btpk:…&s=6e657773
 * ```
 */
export function channelAddress(publicKey: Uint8Array, salt?: string | Uint8Array, name?: string): string {
  const pk = parseWith(u8(32, "publicKey"), publicKey, "channelAddress");
  const n = parseWith(z.string().optional(), name, "channelAddress");
  return formatAddress(pk, saltBytes(salt, "channelAddress"), n);
}

/**
 * Parses a BEP 46 address (`magnet:?xs=urn:btpk:<64 hex>[&s=<hex salt>]`,
 * parameters in any order, other parameters ignored).
 * @throws TorrentError INVALID_CHANNEL_ADDRESS (not a string, not a magnet, no or a malformed `xs=urn:btpk:` key,
 *   a salt not in hex or over 64 bytes, a torrent magnet)
 *
 * @example Read an address
 * ```ts
 * import { parseChannelAddress } from "./mod.ts";
 * const ch = parseChannelAddress(
 *   "magnet:?xs=urn:btpk:8543d3e6115f0f98c944077a4493dcd543e49c739fd998550a1f614ab36ed63e&s=6e",
 * );
 * console.log(ch.target); // 59ee7c2cb9b4f7eb1986ee2d18fd2fdb8a56554f (BEP 46 test 2)
 * ```
 */
export function parseChannelAddress(address: string): ChannelInfo {
  const p = parseAddress(address);
  return {
    address: formatAddress(p.publicKey, p.salt),
    publicKey: p.publicKey,
    salt: p.salt,
    target: targetOf(p.publicKey, p.salt),
    ...(p.name !== undefined ? { name: p.name } : {}),
  };
}

/**
 * The DHT target of a channel's item: SHA-1(public key + salt), 40 hex
 * characters (BEP 44/46).
 * @throws TorrentError INVALID_ARGUMENT
 */
export function channelTarget(publicKey: Uint8Array, salt?: string | Uint8Array): string {
  const pk = parseWith(u8(32, "publicKey"), publicKey, "channelTarget");
  return targetOf(pk, saltBytes(salt, "channelTarget"));
}

/**
 * Checks that `item` is a valid item of the channel at `address`: its
 * public key and salt are the channel's (CHANNEL_WRONG_KEY), its signature
 * verifies (DHT_BAD_SIGNATURE), its seq is above `afterSeq`
 * (CHANNEL_STALE_SEQUENCE) and its value is `{ ih: <20 bytes> }`
 * (CHANNEL_BAD_VALUE) — in that order. Resolves with the seq and the
 * info-hash it names.
 * @throws TorrentError INVALID_CHANNEL_ADDRESS, CHANNEL_WRONG_KEY, DHT_BAD_SIGNATURE, CHANNEL_STALE_SEQUENCE,
 *   CHANNEL_BAD_VALUE, INVALID_ARGUMENT (malformed item)
 *
 * @example Check an item before trusting it
 * ```ts
 * import { Session } from "../../mod.ts";
 * import { parseChannelAddress, verifyChannelItem } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * const address = "magnet:?xs=urn:btpk:8543d3e6115f0f98c944077a4493dcd543e49c739fd998550a1f614ab36ed63e";
 * const ch = parseChannelAddress(address);
 * const item = await session.dht.getMutable(ch.publicKey, ch.salt);
 * if (item) console.log(await verifyChannelItem(address, item)); // { seq, infoHash }
 * ```
 */
export async function verifyChannelItem(
  address: string,
  item: DhtSignedItem,
  options: { afterSeq?: number } = {},
): Promise<{ seq: number; infoHash: string }> {
  const ch = parseAddress(address);
  const o = parseWith(z.object({ afterSeq: seqSchema.optional() }).strict(), options, "verifyChannelItem");
  return await verifyAgainst(ch.publicKey, ch.salt, item, o.afterSeq ?? 0, "verifyChannelItem");
}

async function verifyAgainst(
  publicKey: Uint8Array,
  salt: Uint8Array,
  item: DhtSignedItem,
  afterSeq: number,
  where: string,
): Promise<{ seq: number; infoHash: string }> {
  if (item === null || typeof item !== "object") {
    throw new TorrentError(
      "INVALID_ARGUMENT",
      `${where}: give a signed item { publicKey, signature, seq, salt, value }`,
    );
  }
  const itemSalt = saltBytes(item.salt, where);
  if (!(item.publicKey instanceof Uint8Array) || !equalBytes(item.publicKey, publicKey)) {
    throw new TorrentError("CHANNEL_WRONG_KEY", `${where}: the item is signed by another key than the channel's`);
  }
  if (!equalBytes(itemSalt, salt)) {
    throw new TorrentError("CHANNEL_WRONG_KEY", `${where}: the item is stored under another salt than the channel's`);
  }
  if (!(await verifyMutableItem(item))) {
    throw new TorrentError("DHT_BAD_SIGNATURE", `${where}: the item's signature does not verify (forged or altered)`);
  }
  if (item.seq <= afterSeq) {
    throw new TorrentError(
      "CHANNEL_STALE_SEQUENCE",
      `${where}: the item's seq ${item.seq} is not above the one held, ${afterSeq} (a replayed or old item)`,
    );
  }
  const value = item.bencoded !== undefined ? decodeValue(item.bencoded) : item.value;
  return { seq: item.seq, infoHash: infoHashOfValue(value) };
}

/** A held item in the form the DHT calls take. */
function heldOf(item: DhtMutableItem): ChannelItem {
  return {
    publicKey: item.publicKey,
    signature: item.signature,
    seq: item.seq,
    salt: item.salt,
    bencoded: item.bencoded,
    value: item.value,
  };
}

function aborted(where: string): TorrentError {
  return new TorrentError("ABORTED", `${where}: the channels plugin was detached`);
}

/**
 * The channels plugin: `await session.use(channels())`. The session needs
 * its DHT on (as with `profile: "isolated"` and local bootstrap nodes).
 * @throws TorrentError INVALID_ARGUMENT (bad options)
 *
 * @example Quick drop: a text by code
 * ```ts
 * import { Session } from "../../mod.ts";
 * import { channels } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated", dhtBootstrap: ["127.0.0.1:6881"] });
 * await using ch = await session.use(channels());
 * const code = await ch.drop("meet at the usual place");
 * console.log(code, await ch.pickup(code));
 * ```
 */
export function channels(options: ChannelsOptions = {}): Plugin<Channels> {
  const o = parseWith(OptionsSchema, options, "channels");
  const cfg = {
    republishIntervalMs: o.republishIntervalMs ?? DEFAULT_REPUBLISH,
    timeoutMs: o.timeoutMs ?? 30_000,
  };
  return { name: "channels", attach: (session) => new ChannelsPlugin(session, cfg) };
}

interface Config {
  republishIntervalMs: number;
  timeoutMs: number;
}

/** What the publisher keeps per channel: its last items and feed. */
interface Owned {
  main: ChannelItem;
  feedItem: ChannelItem | undefined;
  feed: FeedEntry[];
}

class ChannelsPlugin implements Channels {
  readonly #session: Session;
  readonly #cfg: Config;
  readonly #followers = new Set<Follower>();
  readonly #owned = new Map<string, Owned>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #detached = false;
  #publishing: Promise<unknown> = Promise.resolve();

  constructor(session: Session, cfg: Config) {
    this.#session = session;
    this.#cfg = cfg;
  }

  get following(): readonly ChannelFollower[] {
    return [...this.#followers];
  }

  async detach(): Promise<void> {
    this.#detached = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all([...this.#followers].map((f) => f.stop()));
  }

  /** @internal */
  forget(f: Follower): void {
    this.#followers.delete(f);
  }

  #check(where: string): void {
    if (this.#detached) throw aborted(where);
  }

  publish(source: PublishSource, options: PublishOptions): Promise<PublishedRelease> {
    // One publish at a time: each reads the channel's seq and feed, then writes them.
    const run = this.#publishing.then(() => this.#publish(source, options));
    this.#publishing = run.catch(() => {});
    return run;
  }

  async #publish(source: PublishSource, options: PublishOptions): Promise<PublishedRelease> {
    this.#check("publish");
    const where = "publish";
    const o = parseWith(PublishSchema, options, where);
    const salt = saltBytes(o.salt, where);
    const { publicKey, secretKey } = o.keys;
    if (o.address !== undefined) {
      const a = parseAddress(o.address);
      if (!equalBytes(a.publicKey, publicKey) || !equalBytes(a.salt, salt)) {
        throw new TorrentError("CHANNEL_WRONG_KEY", `${where}: the keys and salt given are not those of ${o.address}`);
      }
    }
    if (o.keys.seed) {
      const derived = await createDhtKeypair(o.keys.seed);
      if (!equalBytes(derived.publicKey, publicKey) || !equalBytes(derived.secretKey, secretKey)) {
        throw new TorrentError(
          "CHANNEL_WRONG_KEY",
          `${where}: keys.seed does not give keys.publicKey / keys.secretKey`,
        );
      }
    }
    const release = await this.#resolveSource(source, o, where);
    this.#check(where);
    // Announce the release on the DHT now (libtorrent would, on its own
    // schedule), so followers find this seeder as soon as they see the item.
    if (release.torrent && release.torrent.status().isSeeding) {
      this.#session.dht.announce(release.infoHash, { seed: true });
    }
    const dht = this.#session.dht;
    const target = targetOf(publicKey, salt);
    const owned = this.#owned.get(target);
    const timeoutMs = this.#cfg.timeoutMs;

    // The sequence number: above what the DHT and this plugin hold.
    const current = await dht.getMutable(publicKey, salt, { timeoutMs });
    const held = Math.max(current?.seq ?? 0, owned?.main.seq ?? 0);
    const seq = o.seq ?? held + 1;
    if (seq <= held) {
      throw new TorrentError(
        "CHANNEL_STALE_SEQUENCE",
        `${where}: seq ${seq} is not above the channel's current ${held}`,
      );
    }
    if (seq > Number.MAX_SAFE_INTEGER) throw new TorrentError("CHANNEL_STALE_SEQUENCE", `${where}: seq exhausted`);

    const keyed = { publicKey, secretKey };
    const wrap = (e: unknown): never => {
      if (e instanceof TorrentError && e.code === "INVALID_ARGUMENT" && /does not belong/.test(e.message)) {
        throw new TorrentError(
          "CHANNEL_WRONG_KEY",
          `${where}: keys.secretKey is not the secret key of keys.publicKey`,
          {
            cause: e,
          },
        );
      }
      if (e instanceof TorrentError && e.code === "DHT_STALE_SEQUENCE") {
        throw new TorrentError("CHANNEL_STALE_SEQUENCE", `${where}: ${e.message}`, { cause: e });
      }
      throw e;
    };

    // The feed first, so that a follower who sees seq N finds release N in it.
    const feedSize = o.feedSize ?? 16;
    let feed: FeedEntry[] = [];
    let feedItem: ChannelItem | undefined;
    if (feedSize > 0) {
      const fSalt = feedSaltOf(salt);
      let previous = owned?.feed ?? [];
      try {
        const got = await dht.getMutable(publicKey, fSalt, { timeoutMs });
        if (got && (await verifyMutableItem(got))) {
          const fromDht = decodeFeed(got.value);
          if ((fromDht[0]?.seq ?? 0) > (previous[0]?.seq ?? 0)) previous = fromDht;
        }
      } catch (e) {
        if (!(e instanceof TorrentError) || e.code === "SESSION_CLOSED") throw e;
        // A missing or malformed feed starts afresh.
      }
      const entry: FeedEntry = {
        infoHash: release.infoHash,
        seq,
        name: cutUtf8(o.name ?? release.name, MAX_NAME),
        time: Math.floor(Date.now() / 1000),
      };
      const enc = encodeFeed(
        [entry, ...previous.filter((e) => e.infoHash !== entry.infoHash && e.seq < seq)],
        feedSize,
      );
      feed = enc.kept;
      const put = await dht.putMutable({ ...keyed, salt: fSalt, value: enc.value }, { timeoutMs }).catch(wrap);
      const got = { seq: put.seq, signature: put.signature, publicKey, salt: fSalt };
      feedItem = { ...got, bencoded: bencode(enc.value), value: enc.value };
    }

    const value = { ih: fromHex(release.infoHash) };
    const put = await dht.putMutable({ ...keyed, salt, value, seq }, { timeoutMs }).catch(wrap);
    const item: ChannelItem = {
      publicKey,
      salt,
      seq: put.seq,
      signature: put.signature,
      bencoded: bencode(value),
      value,
    };
    this.#owned.set(target, { main: item, feedItem, feed });
    this.#startTimer();
    return {
      address: formatAddress(publicKey, salt),
      seq: put.seq,
      infoHash: release.infoHash,
      magnet: release.magnet,
      torrent: release.torrent,
      item,
      feed,
      numSuccess: put.numSuccess,
    };
  }

  async #resolveSource(
    source: PublishSource,
    o: z.infer<typeof PublishSchema>,
    where: string,
  ): Promise<{ infoHash: string; name: string; magnet: string; torrent: Torrent | undefined }> {
    const magnetOf = (ih: string, name: string) =>
      `magnet:?xt=urn:btih:${ih}` + (name ? `&dn=${encodeURIComponent(name)}` : "");
    if (source instanceof Torrent) {
      if (source.removed) throw new TorrentError("TORRENT_REMOVED", `${where}: the torrent was removed`);
      const ih = source.infoHash.v1;
      if (!ih) {
        throw new TorrentError(
          "INVALID_ARGUMENT",
          `${where}: the torrent has no v1 info-hash; BEP 46 names a 20-byte v1 info-hash (publish v1 or hybrid)`,
        );
      }
      const name = source.status().name;
      return { infoHash: ih.toLowerCase(), name, magnet: magnetOf(ih.toLowerCase(), name), torrent: source };
    }
    if (typeof source === "string") {
      if (source === "") throw new TorrentError("INVALID_ARGUMENT", `${where}: the path is empty`);
      const path = resolve(source);
      const made = await createTorrent({
        path,
        version: o.version ?? "hybrid",
        ...(o.pieceSize ? { pieceSize: o.pieceSize } : {}),
      });
      this.#check(where);
      const ih = made.infoHash.v1!;
      let t: Torrent;
      try {
        t = await this.#seed(made.torrent, dirname(path));
      } catch (e) {
        if (!(e instanceof TorrentError && e.code === "DUPLICATE_TORRENT")) throw e;
        t = this.#session.findTorrent(ih)!;
      }
      return { infoHash: ih, name: t.status().name, magnet: made.magnet, torrent: t };
    }
    if (source !== null && typeof source === "object" && typeof source.infoHash === "string") {
      if (!HEX40.test(source.infoHash)) {
        throw new TorrentError("INVALID_ARGUMENT", `${where}: infoHash must be 40 hex characters (v1)`);
      }
      const ih = source.infoHash.toLowerCase();
      const name = typeof source.name === "string" ? source.name : "";
      return { infoHash: ih, name, magnet: magnetOf(ih, name), torrent: this.#session.findTorrent(ih) };
    }
    throw new TorrentError("INVALID_ARGUMENT", `${where}: give a Torrent, a path, or { infoHash }`);
  }

  /** Adds a just-created torrent over its files and waits until it seeds. */
  async #seed(torrent: Uint8Array, savePath: string): Promise<Torrent> {
    const events = this.#session.events({
      types: ["torrent_checked", "state_changed", "torrent_error", "file_error"],
    });
    try {
      const t = await this.#session.add({ torrent, savePath });
      if (t.status().isSeeding) return t;
      for (;;) {
        const r = await events.next();
        if (r.done) throw new TorrentError("SESSION_CLOSED", "publish: the session closed");
        const ev = r.value;
        if (ev.torrent !== t) continue;
        if (ev.type === "torrent_error" || ev.type === "file_error") {
          throw new TorrentError("ENGINE", `publish: seeding failed: ${ev.message}`);
        }
        if (ev.type === "torrent_checked" || (ev.type === "state_changed" && ev.state === "seeding")) return t;
      }
    } finally {
      await events.return();
    }
  }

  #startTimer(): void {
    if (this.#timer !== undefined || this.#cfg.republishIntervalMs === 0 || this.#detached) return;
    this.#timer = setInterval(() => void this.#republishOwned(), this.#cfg.republishIntervalMs);
  }

  async #republishOwned(): Promise<void> {
    for (const o of this.#owned.values()) {
      for (const item of [o.main, o.feedItem]) {
        if (!item || this.#detached || this.#session.closed) return;
        await this.#session.dht.putMutableSigned(item, { timeoutMs: this.#cfg.timeoutMs }).catch(() => {});
      }
    }
  }

  follow(address: string, options: FollowOptions): ChannelFollower {
    this.#check("follow");
    const ch = parseAddress(address);
    const o = parseWith(FollowSchema, options, "follow");
    const f = new Follower(this, this.#session, ch.publicKey, ch.salt, o, this.#cfg);
    this.#followers.add(f);
    f.start();
    return f;
  }

  async drop(text: string | Uint8Array): Promise<string> {
    this.#check("drop");
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    if (!(bytes instanceof Uint8Array)) throw new TorrentError("INVALID_ARGUMENT", "drop: give a string or bytes");
    if (bytes.length > MAX_DROP) {
      throw new TorrentError("INVALID_ARGUMENT", `drop: ${bytes.length} bytes; a drop holds at most ${MAX_DROP}`);
    }
    const put = await this.#session.dht.putImmutable(bytes, { timeoutMs: this.#cfg.timeoutMs });
    if (put.numSuccess === 0) {
      throw new TorrentError("ENGINE", "drop: no DHT node stored the item (is the DHT connected?)");
    }
    return put.target;
  }

  async pickup(code: string): Promise<string | null> {
    this.#check("pickup");
    if (typeof code !== "string" || !HEX40.test(code)) {
      throw new TorrentError("INVALID_ARGUMENT", "pickup: a drop code is 40 hex characters");
    }
    const item = await this.#session.dht.getImmutable(code.toLowerCase(), { timeoutMs: this.#cfg.timeoutMs });
    if (!item) return null;
    if (!(item.value instanceof Uint8Array)) {
      throw new TorrentError("CHANNEL_BAD_VALUE", "pickup: the item under this code is not a text drop");
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(item.value);
    } catch (e) {
      throw new TorrentError("CHANNEL_BAD_VALUE", "pickup: the item under this code is not UTF-8 text", { cause: e });
    }
  }
}

type FollowConfig = z.infer<typeof FollowSchema>;

class Follower implements ChannelFollower {
  readonly address: string;
  readonly target: string;
  readonly #plugin: ChannelsPlugin;
  readonly #session: Session;
  readonly #pk: Uint8Array;
  readonly #salt: Uint8Array;
  readonly #o: FollowConfig;
  readonly #cfg: Config;
  #seq: number;
  #current: ChannelUpdate | undefined;
  #held: ChannelItem | undefined;
  #heldFeed: ChannelItem | undefined;
  #lastError: TorrentError | undefined;
  #stopped = false;
  #assisting = false;
  #lock: Promise<unknown> = Promise.resolve();
  #poll: ReturnType<typeof setTimeout> | undefined;
  #republish: ReturnType<typeof setInterval> | undefined;
  readonly #queue: ChannelUpdate[] = [];
  readonly #waiters: ((r: IteratorResult<ChannelUpdate>) => void)[] = [];

  constructor(
    plugin: ChannelsPlugin,
    session: Session,
    pk: Uint8Array,
    salt: Uint8Array,
    o: FollowConfig,
    cfg: Config,
  ) {
    this.#plugin = plugin;
    this.#session = session;
    this.#pk = pk;
    this.#salt = salt;
    this.#o = o;
    this.#cfg = cfg;
    this.#seq = o.afterSeq ?? 0;
    this.address = formatAddress(pk, salt);
    this.target = targetOf(pk, salt);
  }

  get seq(): number {
    return this.#seq;
  }
  get current(): ChannelUpdate | undefined {
    return this.#current;
  }
  get lastError(): TorrentError | undefined {
    return this.#lastError;
  }
  get stopped(): boolean {
    return this.#stopped;
  }

  /** @internal Starts the lookups (the first at once) and the re-publish timer. */
  start(): void {
    this.#schedule(0);
    if (this.#cfg.republishIntervalMs > 0) {
      this.#republish = setInterval(() => {
        this.republish().then(() => this.#lastError = undefined, (e) => this.#background(e));
      }, this.#cfg.republishIntervalMs);
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#poll = setTimeout(() => {
      this.#poll = undefined;
      void this.#assist();
      this.refresh().then(
        () => this.#lastError = undefined,
        (e) => this.#background(e),
      ).finally(() => this.#schedule(this.#o.pollIntervalMs ?? 60_000));
    }, ms);
  }

  /**
   * Peer discovery for the current release while it has no peer: a DHT
   * lookup of its info-hash, and a connection to each peer found. (A
   * torrent added just before its seeder's announce landed would otherwise
   * wait for libtorrent's next DHT announce, up to 15 minutes.)
   */
  async #assist(): Promise<void> {
    const t = this.#current?.torrent;
    if (!t || t.removed || this.#o.download === false || this.#assisting) return;
    const st = t.status();
    if (st.isSeeding || st.isFinished || st.numPeers > 0) return;
    this.#assisting = true;
    try {
      const peers = await this.#session.dht.getPeers(this.#current!.infoHash, {
        timeoutMs: Math.min(this.#cfg.timeoutMs, this.#o.pollIntervalMs ?? 60_000),
      });
      for (const p of peers) {
        const i = p.lastIndexOf(":");
        const host = p.slice(0, i).replace(/^\[|\]$/g, "");
        if (!t.removed) t.connectPeer(host, Number(p.slice(i + 1)));
      }
    } catch {
      // Nobody known yet (TIMEOUT), or the torrent/session went away: try again next tick.
    } finally {
      this.#assisting = false;
    }
  }

  /** A failure on a timer: kept for `lastError`; a closed session stops the follower. */
  #background(e: unknown): void {
    if (e instanceof TorrentError) {
      if (e.code === "SESSION_CLOSED") void this.stop();
      else if (e.code !== "ABORTED") this.#lastError = e;
    } else {
      this.#lastError = new TorrentError("INTERNAL", `channel follower: ${String(e)}`, { cause: e });
    }
  }

  /** Runs `fn` after every earlier exclusive call (lookups and offers never interleave). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  #ensureRunning(where: string): void {
    if (this.#stopped) throw new TorrentError("ABORTED", `${where}: the follower was stopped`);
  }

  refresh(): Promise<ChannelUpdate | null> {
    return this.#exclusive(async () => {
      this.#ensureRunning("refresh");
      const item = await this.#session.dht.getMutable(this.#pk, this.#salt, { timeoutMs: this.#cfg.timeoutMs });
      this.#ensureRunning("refresh");
      if (!item) return null;
      if (item.seq < this.#seq && this.#held) {
        // The DHT lags behind what we hold: store the newer item again.
        void this.republish().catch((e) => this.#background(e));
        return null;
      }
      if (item.seq <= this.#seq) return null;
      return await this.#apply(item, "dht", "refresh");
    });
  }

  offer(item: DhtSignedItem): Promise<ChannelUpdate> {
    return this.#exclusive(() => {
      this.#ensureRunning("offer");
      return this.#apply(item, "offer", "offer");
    });
  }

  async #apply(item: DhtSignedItem, source: "dht" | "offer", where: string): Promise<ChannelUpdate> {
    const { seq, infoHash } = await verifyAgainst(this.#pk, this.#salt, item, this.#seq, where);
    this.#ensureRunning(where);
    const held: ChannelItem = {
      publicKey: this.#pk,
      salt: this.#salt,
      seq,
      signature: item.signature,
      bencoded: item.bencoded ?? bencode(item.value as never),
      value: item.value ?? decodeValue(item.bencoded!),
    };
    let feed: FeedEntry[] = [];
    if (this.#o.feed !== false) {
      try {
        const fSalt = feedSaltOf(this.#salt);
        const got = await this.#session.dht.getMutable(this.#pk, fSalt, { timeoutMs: this.#cfg.timeoutMs });
        if (got && (await verifyMutableItem(got))) {
          feed = decodeFeed(got.value);
          this.#heldFeed = heldOf(got);
        }
      } catch (e) {
        if (e instanceof TorrentError && e.code === "SESSION_CLOSED") throw e;
        // The feed is a convenience: the release stands without it.
      }
    }
    this.#ensureRunning(where);
    const name = feed.find((e) => e.infoHash === infoHash)?.name;
    let torrent = this.#session.findTorrent(infoHash);
    if (!torrent) {
      try {
        torrent = await this.#session.add({
          infoHash,
          savePath: this.#o.savePath,
          paused: this.#o.download === false,
          ...(name ? { name } : {}),
        });
      } catch (e) {
        if (!(e instanceof TorrentError && e.code === "DUPLICATE_TORRENT")) throw e;
        torrent = this.#session.findTorrent(infoHash)!;
      }
    }
    const previous = this.#current?.torrent;
    if (this.#o.replace && previous && previous !== torrent && !previous.removed) {
      await previous.remove().catch(() => {});
    }
    this.#seq = seq;
    this.#held = held;
    const update: ChannelUpdate = {
      address: this.address,
      seq,
      infoHash,
      torrent,
      previous,
      item: held,
      feed,
      source,
    };
    this.#current = update;
    this.#push(update);
    return update;
  }

  async republish(): Promise<number> {
    const held = this.#held;
    if (!held || this.#stopped) return 0;
    const dht = this.#session.dht;
    let put;
    try {
      put = await dht.putMutableSigned(held, { timeoutMs: this.#cfg.timeoutMs });
    } catch (e) {
      if (e instanceof TorrentError && e.code === "DHT_STALE_SEQUENCE") {
        void this.refresh().catch((err) => this.#background(err));
      }
      throw e;
    }
    if (this.#heldFeed) await dht.putMutableSigned(this.#heldFeed, { timeoutMs: this.#cfg.timeoutMs }).catch(() => {});
    return put.numSuccess;
  }

  #push(u: ChannelUpdate): void {
    const w = this.#waiters.shift();
    if (w) return w({ value: u, done: false });
    this.#queue.push(u);
    if (this.#queue.length > MAX_QUEUED) this.#queue.shift();
  }

  stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      if (this.#poll !== undefined) clearTimeout(this.#poll);
      if (this.#republish !== undefined) clearInterval(this.#republish);
      this.#poll = this.#republish = undefined;
      this.#plugin.forget(this);
      for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true });
    }
    return Promise.resolve();
  }

  next(): Promise<IteratorResult<ChannelUpdate>> {
    const u = this.#queue.shift();
    if (u) return Promise.resolve({ value: u, done: false });
    if (this.#stopped) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async return(): Promise<IteratorResult<ChannelUpdate>> {
    await this.stop();
    this.#queue.length = 0;
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ChannelUpdate> {
    return this;
  }
}

export { type DhtSignedItem } from "../../mod.ts";
