/**
 * Creating torrents: v1, v2 or hybrid, from a file or directory.
 *
 * @module
 */
import { resolve } from "node:path";
import { z } from "zod";
import { check, getNative, hex, takeBlob } from "./_native.ts";
import { parse } from "./_validate.ts";
import { bdecode, bencode } from "./bencode.ts";
import type { InfoHash } from "./torrent.ts";

/** Options of {@link createTorrent}. */
export interface CreateTorrentOptions {
  /** The file or directory to share. */
  path: string;
  /**
   * `"v1"` (SHA-1), `"v2"` (SHA-256, BEP 52) or `"hybrid"` (both; default).
   * A v2-only torrent of a directory holding a single file is refused with
   * INVALID_ARGUMENT: BEP 52 encodes it as a single-file torrent, so the
   * directory would be lost. Create it from the file, or use v1 or hybrid.
   */
  version?: "v1" | "v2" | "hybrid";
  /** Bytes per piece: a power of two from 16 KiB to 256 MiB; default automatic. */
  pieceSize?: number;
  /** Tracker announce URLs, one tier each. */
  trackers?: string[];
  /** Web seed URLs (BEP 19). */
  webSeeds?: string[];
  /** A free-text comment stored in the torrent. */
  comment?: string;
  /** The `created by` field. Default "TorrentXT". */
  creator?: string;
  /** Private torrent (BEP 27): no DHT, PEX or LSD. */
  private?: boolean;
}

/** The result of {@link createTorrent}. */
export interface CreatedTorrent {
  /** The .torrent file's bytes. */
  torrent: Uint8Array;
  /** The new torrent's info-hashes (v1, v2 or both per `version`). */
  infoHash: InfoHash;
  /** A magnet URI with the info-hash(es), name, trackers and web seeds. */
  magnet: string;
}

const CreateSchema = z.object({
  path: z.string().min(1),
  version: z.enum(["v1", "v2", "hybrid"]).optional(),
  pieceSize: z.number().int().min(16384).max(1 << 28).refine((n) => (n & (n - 1)) === 0, "must be a power of two")
    .optional(),
  trackers: z.array(z.url()).optional(),
  webSeeds: z.array(z.url()).optional(),
  comment: z.string().optional(),
  creator: z.string().optional(),
  private: z.boolean().optional(),
}).strict();

const VERSION = { v1: 1, v2: 2, hybrid: 3 } as const;

/**
 * Creates a torrent, hashing the content (off the JavaScript thread in Deno).
 *
 * @example Create and seed a hybrid torrent
 * ```ts
 * import { createTorrent, Session } from "./mod.ts";
 * const made = await createTorrent({ path: "./folder", version: "hybrid" });
 * await using seeder = await Session.open({ profile: "isolated" });
 * await seeder.add({ torrent: made.torrent, savePath: "." });
 * console.log(made.magnet);
 * ```
 * @throws TorrentError INVALID_ARGUMENT, PATH_NOT_FOUND, CREATE_FAILED
 */
export async function createTorrent(options: CreateTorrentOptions): Promise<CreatedTorrent> {
  const o = parse(CreateSchema, options, "createTorrent");
  const native = await getNative();
  const opts = bencode({
    path: resolve(o.path),
    version: VERSION[o.version ?? "hybrid"],
    piece_size: o.pieceSize ?? 0,
    trackers: o.trackers,
    web_seeds: o.webSeeds,
    comment: o.comment,
    creator: o.creator,
    private: o.private ? 1 : 0,
  });
  const out = new Uint32Array(2);
  const rc = await native.sym.btx_create_torrent(opts, opts.length, out, out.subarray(1));
  check(native.sym, rc, 0, "createTorrent");
  const result = bdecode(takeBlob(native.sym, out[0], out[1])) as Record<string, Uint8Array>;
  return {
    torrent: result.torrent,
    infoHash: {
      v1: result.v1 ? hex(result.v1) : undefined,
      v2: result.v2 ? hex(result.v2) : undefined,
    },
    magnet: new TextDecoder().decode(result.magnet),
  };
}
