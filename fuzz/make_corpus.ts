/**
 * Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/): the
 * classic bad torrents (absolute and `..` paths, negative sizes, deep
 * nesting, huge piece counts, bad v2 piece layers, symlink loops, …), bad
 * magnets, resume data, settings and tracker lists, plus a few valid inputs
 * for the fuzzer to mutate from. Deterministic; run by scripts/fuzz.sh.
 *
 *   deno run -A fuzz/make_corpus.ts   |   bun fuzz/make_corpus.ts
 * @module
 */
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bencode, type BValue } from "../src/bencode.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "corpus");
const te = new TextEncoder();
const sha1 = (b: Uint8Array) => new Uint8Array(createHash("sha1").update(b).digest());
const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());

function put(target: string, name: string, data: Uint8Array | string): void {
  const dir = join(ROOT, target);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), typeof data === "string" ? te.encode(data) : data);
}

const PIECE = 16384;
const payload = new Uint8Array(40000).map((_, i) => (i * 7) & 0xff);
const pieces: Uint8Array[] = [];
for (let o = 0; o < payload.length; o += PIECE) pieces.push(sha1(payload.subarray(o, o + PIECE)));
const joined = new Uint8Array(pieces.length * 20);
pieces.forEach((p, i) => joined.set(p, i * 20));

const v1 = (info: Record<string, BValue>, extra: Record<string, BValue> = {}) =>
  bencode({ announce: "http://127.0.0.1:1/announce", ...extra, info });
const single = { name: "a.bin", length: payload.length, "piece length": PIECE, pieces: joined };
const multi = (files: BValue[]) => ({ name: "dir", files, "piece length": PIECE, pieces: joined });

rmSync(ROOT, { recursive: true, force: true });

// ---- .torrent bytes
put("torrent", "valid-single", v1(single));
put("torrent", "valid-multi", v1(multi([{ length: 20000, path: ["x", "a"] }, { length: 20000, path: ["b"] }])));
put("torrent", "absolute-path", v1(multi([{ length: 40000, path: ["/etc", "passwd"] }])));
put("torrent", "dotdot-path", v1(multi([{ length: 40000, path: ["..", "..", "evil"] }])));
put("torrent", "empty-path", v1(multi([{ length: 40000, path: [] }])));
put("torrent", "negative-size", v1({ ...single, length: -1 }));
put("torrent", "negative-file-size", v1(multi([{ length: -40000, path: ["a"] }, { length: 80000, path: ["b"] }])));
put("torrent", "size-overflow", v1(multi([{ length: 2 ** 62, path: ["a"] }, { length: 2 ** 62, path: ["b"] }])));
put("torrent", "huge-piece-count", v1({ ...single, length: 2 ** 50 }));
put("torrent", "zero-piece-length", v1({ ...single, "piece length": 0 }));
put("torrent", "odd-piece-length", v1({ ...single, "piece length": 12345 }));
put("torrent", "pieces-not-multiple-of-20", v1({ ...single, pieces: joined.subarray(0, 31) }));
put("torrent", "no-info", bencode({ announce: "x" }));
put("torrent", "info-not-dict", bencode({ info: "nope" }));
put("torrent", "name-with-slash", v1({ ...single, name: "../../x" }));
put("torrent", "deep-list-nesting", "d4:infol" + "l".repeat(50000) + "e".repeat(50000) + "ee");
put("torrent", "deep-dict-nesting", "d4:info" + "d1:a".repeat(20000) + "i1e" + "e".repeat(20000) + "e");
put("torrent", "truncated", v1(single).subarray(0, 60));
put("torrent", "garbage", new Uint8Array(256).map((_, i) => (i * 131 + 7) & 0xff));
put("torrent", "empty", new Uint8Array(0));
put("torrent", "huge-string-length", "d4:info99999999999:abce");
put(
  "torrent",
  "symlink-loop",
  v1(multi([
    { length: 40000, path: ["real"] },
    { length: 0, path: ["loop"], attr: "l", "symlink path": ["loop"] },
    { length: 0, path: ["up"], attr: "l", "symlink path": ["..", "..", "etc"] },
  ])),
);
// v2: a file tree with a pieces root, and piece layers that do not match.
const root = sha256(new Uint8Array(32));
const v2info = {
  name: "v2",
  "meta version": 2,
  "piece length": PIECE,
  "file tree": { "a.bin": { "": { length: 40000, "pieces root": root } } },
};
put(
  "torrent",
  "v2-valid-shape",
  bencode({ info: v2info, "piece layers": { [String.fromCharCode(...root)]: new Uint8Array(96) } }),
);
put(
  "torrent",
  "v2-bad-piece-layers",
  bencode({ info: v2info, "piece layers": { [String.fromCharCode(...root)]: new Uint8Array(33) } }),
);
put("torrent", "v2-missing-piece-layers", bencode({ info: v2info }));
put("torrent", "v2-bad-meta-version", bencode({ info: { ...v2info, "meta version": 99 } }));
put(
  "torrent",
  "v2-pieces-root-short",
  bencode({
    info: { ...v2info, "file tree": { "a.bin": { "": { length: 40000, "pieces root": new Uint8Array(5) } } } },
  }),
);
put(
  "torrent",
  "v2-dotdot-tree",
  bencode({ info: { ...v2info, "file tree": { "..": { "x": { "": { length: 1 } } } } } }),
);

// ---- magnet URIs
const H = "0123456789abcdef0123456789abcdef01234567";
for (
  const [name, m] of Object.entries({
    "valid": `magnet:?xt=urn:btih:${H}&dn=x&tr=http%3A%2F%2F127.0.0.1%3A1%2Fa`,
    "valid-v2": `magnet:?xt=urn:btmh:1220${"ab".repeat(32)}`,
    "base32": "magnet:?xt=urn:btih:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT",
    "empty": "magnet:?",
    "not-magnet": "http://example.invalid/",
    "short-hash": "magnet:?xt=urn:btih:0123",
    "bad-hex": `magnet:?xt=urn:btih:${"zz".repeat(20)}`,
    "bad-multihash": "magnet:?xt=urn:btmh:12ff00",
    "bad-percent": `magnet:?xt=urn:btih:${H}&dn=%zz%`,
    "peer-garbage": `magnet:?xt=urn:btih:${H}&x.pe=[::1&x.pe=127.0.0.1:99999&x.pe=:`,
    "long-name": `magnet:?xt=urn:btih:${H}&dn=${"a".repeat(70000)}`,
    "control-chars": `magnet:?xt=urn:btih:${H}&tr=%00%01%0a`,
    "btpk": `magnet:?xs=urn:btpk:${"ab".repeat(32)}&s=00`,
    "many-params": `magnet:?xt=urn:btih:${H}` + "&so=1-2,3".repeat(2000),
    "select-only-huge": `magnet:?xt=urn:btih:${H}&so=0-4294967295`,
  })
) put("magnet", name, m);

// ---- resume data
const rd = (o: Record<string, BValue>) => bencode({ "file-format": "libtorrent resume file", "file-version": 1, ...o });
put("resume", "minimal", rd({ "info-hash": new Uint8Array(20).fill(1), "save_path": "/tmp/btx-fuzz-save" }));
put("resume", "with-info", rd({ "info-hash": sha1(bencode(single)), info: single, pieces: new Uint8Array(3).fill(1) }));
put("resume", "bad-types", rd({ "info-hash": 5, pieces: "x", "file_priority": "y", "save_path": 7 }));
put("resume", "huge-bitfield", rd({ "info-hash": new Uint8Array(20).fill(2), pieces: new Uint8Array(1 << 20) }));
put(
  "resume",
  "negative-counters",
  rd({ "info-hash": new Uint8Array(20).fill(3), "total_uploaded": -5, "active_time": -1 }),
);
put("resume", "peers-garbage", rd({ "info-hash": new Uint8Array(20).fill(4), peers: new Uint8Array(7), peers6: "z" }));
put("resume", "not-dict", "le");

// ---- the whole add dictionary
put("add_params", "magnet", bencode({ magnet: `magnet:?xt=urn:btih:${H}`, save_path: "/tmp/btx-fuzz-save" }));
put("add_params", "two-sources", bencode({ magnet: `magnet:?xt=urn:btih:${H}`, torrent: v1(single), save_path: "/x" }));
put("add_params", "info-hash", bencode({ info_hash_v1: new Uint8Array(20).fill(9), save_path: "/tmp/btx-fuzz-save" }));
put("add_params", "bad-hash-len", bencode({ info_hash_v2: new Uint8Array(31), save_path: "/tmp/x" }));
put("add_params", "torrent-file-missing", bencode({ torrent_file: "/nonexistent/x.torrent", save_path: "/tmp/x" }));
put(
  "add_params",
  "flags-all",
  bencode({ magnet: `magnet:?xt=urn:btih:${H}`, save_path: "/x", flags_set: -1, flags_unset: -1 }),
);
put("add_params", "types", bencode({ magnet: 5, save_path: ["x"], name: { a: 1 } }));

// ---- settings
put("settings", "valid", bencode({ upload_rate_limit: 1000, user_agent: "x", enable_dht: 0 }));
put("settings", "unknown", bencode({ no_such_setting: 1 }));
put("settings", "wrong-types", bencode({ upload_rate_limit: "fast", user_agent: 5, enable_dht: "yes" }));
put("settings", "out-of-range", bencode({ alert_queue_size: -1, connections_limit: 2 ** 40, active_downloads: -9 }));
put("settings", "not-dict", bencode(["a", 1]));
put("settings", "nested", bencode({ upload_rate_limit: { a: [1, 2] } }));

// ---- tracker lists and DHT state (one target feeds both)
put("trackers_dht_state", "trackers", bencode({ trackers: [{ url: "http://127.0.0.1:1/a", tier: 0 }] }));
put("trackers_dht_state", "tier-out-of-range", bencode({ trackers: [{ url: "http://127.0.0.1:1/a", tier: 999 }] }));
put("trackers_dht_state", "empty-url", bencode({ trackers: [{ url: "", tier: 0 }, 5, "x"] }));
put(
  "trackers_dht_state",
  "dht-state",
  bencode({ "dht state": { "node-id": new Uint8Array(20), nodes: new Uint8Array(6 * 3) } }),
);
put("trackers_dht_state", "dht-state-bad", bencode({ "dht state": { nodes: "xyz", nodes6: 5 } }));

console.log(`seed corpus written to ${ROOT}`);
