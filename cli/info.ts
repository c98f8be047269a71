/**
 * `torrentxt info <torrent|magnet>`: what a .torrent or magnet link holds
 * (name, info-hashes, size, pieces, files, trackers, web seeds), read by the
 * engine itself (the torrent is added paused to a loopback-only session
 * that is closed again; nothing is downloaded).
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bdecode, type BDecoded, Session } from "../mod.ts";
import { type OptionSpec, parseArgs, UsageError } from "./_args.ts";
import { type Context, magnetOf, OUTPUT_SPECS } from "./_common.ts";
import { resolveInput } from "./_input.ts";
import { formatBinary, formatBytes } from "./_output.ts";

/** Options of `info`. */
export const INFO_SPECS: Record<string, OptionSpec> = { ...OUTPUT_SPECS };

/** Usage of `info`. */
export const INFO_USAGE = "torrentxt info <file.torrent|magnet|url|info-hash> [--json]";

const dec = new TextDecoder();
const text = (v: BDecoded | undefined) => (v instanceof Uint8Array ? dec.decode(v) : undefined);

/** Runs `info`. */
export async function info(ctx: Context, argv: string[]): Promise<number> {
  const p = parseArgs(argv, INFO_SPECS, "info");
  const out = ctx.output(p);
  if (p.positionals.length !== 1) {
    throw new UsageError("info: give one .torrent file, magnet link, URL or info-hash", "try: torrentxt info --help");
  }
  const src = await resolveInput(p.positionals[0]);
  const scratch = mkdtempSync(join(tmpdir(), "torrentxt-info-"));
  const session = await Session.open({ profile: "isolated", settings: { enable_dht: false } });
  try {
    const t = await session.add({ ...src.add, savePath: scratch, paused: true });
    const st = t.status();
    const h = t.infoHash;
    const files = st.hasMetadata ? t.files().map((f) => ({ path: f.path, size: f.size })) : [];
    const trackers = t.trackers().map((tr) => ({ url: tr.url, tier: tr.tier }));
    const webSeeds = t.webSeeds();
    let extra: Record<string, unknown> = {};
    if (src.torrent) {
      const d = bdecode(src.torrent) as Record<string, BDecoded>;
      const infoDict = (d.info ?? {}) as Record<string, BDecoded>;
      extra = {
        comment: text(d.comment) ?? null,
        createdBy: text(d["created by"]) ?? null,
        creationDate: typeof d["creation date"] === "number" ? d["creation date"] : null,
        private: infoDict.private === 1,
      };
    }
    const version = h.v1 && h.v2 ? "hybrid" : h.v2 ? "v2" : "v1";
    const result = {
      name: st.name,
      infoHash: h,
      version: st.hasMetadata ? version : null,
      hasMetadata: st.hasMetadata,
      totalSize: st.hasMetadata ? st.totalSize : null,
      pieceCount: st.hasMetadata ? st.pieceCount : null,
      pieceSize: st.hasMetadata ? st.pieceSize : null,
      files,
      trackers,
      webSeeds,
      ...extra,
      magnet: src.kind === "magnet" ? p.positionals[0] : magnetOf(h, st.name),
    };
    out.event("info", result);
    const lines = [
      `name:        ${st.name || "(unknown until the metadata arrives)"}`,
      h.v1 ? `info-hash:   ${h.v1} (v1)` : "",
      h.v2 ? `info-hash:   ${h.v2} (v2)` : "",
    ];
    if (st.hasMetadata) {
      lines.push(
        `version:     ${version}`,
        `size:        ${formatBytes(st.totalSize)} (${st.totalSize} bytes)`,
        `pieces:      ${st.pieceCount} × ${formatBinary(st.pieceSize)}`,
      );
    } else {
      lines.push("metadata:    not in a magnet link; fetched from peers when downloading");
    }
    if (src.torrent) {
      if (extra.private) lines.push("private:     yes (no DHT, PEX or LSD)");
      if (extra.comment) lines.push(`comment:     ${extra.comment}`);
      if (extra.createdBy) lines.push(`created by:  ${extra.createdBy}`);
      if (extra.creationDate) {
        lines.push(`created:     ${new Date((extra.creationDate as number) * 1000).toISOString()}`);
      }
    }
    for (const tr of trackers) lines.push(`tracker:     ${tr.url} (tier ${tr.tier})`);
    for (const ws of webSeeds) lines.push(`web seed:    ${ws}`);
    if (files.length) {
      lines.push(`files (${files.length}):`);
      for (const f of files) lines.push(`  ${f.path}  ${formatBytes(f.size)}`);
    }
    lines.push(`magnet:      ${result.magnet}`);
    out.say(lines.filter((l) => l !== "").join("\n"));
    return 0;
  } finally {
    await session.close().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  }
}
