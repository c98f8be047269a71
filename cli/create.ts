/**
 * `torrentxt create <path>`: makes a .torrent (v1, v2 or hybrid) of a file
 * or directory and prints its info-hashes and magnet link.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { bdecode, type BDecoded, createTorrent } from "../mod.ts";
import { type OptionSpec, parseArgs, parseBytes, UsageError } from "./_args.ts";
import { type Context, OUTPUT_SPECS, writeAtomic } from "./_common.ts";
import { formatBinary, formatBytes } from "./_output.ts";

/** Options of `create`. */
export const CREATE_SPECS: Record<string, OptionSpec> = {
  output: { kind: "value", short: "o", arg: "file.torrent", help: "where to write it (default: <name>.torrent)" },
  v1: { kind: "flag", help: "BitTorrent v1 only (SHA-1)" },
  v2: { kind: "flag", help: "BitTorrent v2 only (SHA-256, BEP 52)" },
  hybrid: { kind: "flag", help: "v1 + v2 (the default)" },
  tracker: { kind: "list", arg: "url", help: "an announce URL, one tier each (repeatable)" },
  "web-seed": { kind: "list", arg: "url", help: "a web seed URL, BEP 19 (repeatable)" },
  "piece-size": { kind: "value", arg: "bytes", help: "piece size: a power of two, 16k..256m (default: automatic)" },
  comment: { kind: "value", arg: "text", help: "a comment stored in the torrent" },
  private: { kind: "flag", help: "private torrent (BEP 27): no DHT, PEX or LSD" },
  force: { kind: "flag", short: "f", help: "overwrite the output file if it exists" },
  ...OUTPUT_SPECS,
};

/** Usage of `create`. */
export const CREATE_USAGE = "torrentxt create <path> [-o file.torrent] [--v1|--v2|--hybrid] [--tracker url]... " +
  "[--web-seed url]... [--piece-size N]";

/** Runs `create`. */
export async function create(ctx: Context, argv: string[]): Promise<number> {
  const p = parseArgs(argv, CREATE_SPECS, "create");
  const out = ctx.output(p);
  if (p.positionals.length !== 1) {
    throw new UsageError("create: give one file or directory to share", "try: torrentxt create --help");
  }
  const versions = (["v1", "v2", "hybrid"] as const).filter((v) => p.flags.has(v));
  if (versions.length > 1) throw new UsageError(`create: --${versions.join(" and --")} exclude each other`);
  const path = resolve(p.positionals[0]);
  if (!existsSync(path)) throw new UsageError(`create: ${p.positionals[0]}: no such file or directory`);
  const file = resolve(p.values.get("output") ?? `${basename(path)}.torrent`);
  if (existsSync(file) && !p.flags.has("force")) {
    throw new UsageError(`create: ${file} exists`, "use --force to overwrite it");
  }
  const ps = p.values.get("piece-size");
  const made = await createTorrent({
    path,
    version: versions[0] ?? "hybrid",
    pieceSize: ps === undefined ? undefined : parseBytes(ps, "--piece-size"),
    trackers: p.lists.get("tracker"),
    webSeeds: p.lists.get("web-seed"),
    comment: p.values.get("comment"),
    private: p.flags.has("private") || undefined,
  });
  writeAtomic(file, made.torrent);
  const info = (bdecode(made.torrent) as Record<string, BDecoded>).info as Record<string, BDecoded>;
  const pieceSize = info["piece length"] as number;
  out.event("created", {
    file,
    path,
    infoHash: made.infoHash,
    magnet: made.magnet,
    pieceSize,
    bytes: made.torrent.length,
  });
  out.say(
    [
      `created ${file} (${formatBytes(made.torrent.length)}, pieces of ${formatBinary(pieceSize)})`,
      made.infoHash.v1 ? `info-hash v1: ${made.infoHash.v1}` : "",
      made.infoHash.v2 ? `info-hash v2: ${made.infoHash.v2}` : "",
      `magnet: ${made.magnet}`,
    ].filter(Boolean).join("\n"),
  );
  return 0;
}
