/**
 * What the commands share: the context they run in, session options
 * (profile, listen address, peers, DHT nodes, rate limits), resume files
 * written atomically, magnet links, and the engine-error type.
 *
 * @module
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { type InfoHash, Session, type SettingValue, type Torrent } from "../mod.ts";
import {
  type Endpoint,
  isLoopback,
  type OptionSpec,
  parseBytes,
  type Parsed,
  parseEndpoint,
  parseSeconds,
  UsageError,
} from "./_args.ts";
import type { Output } from "./_output.ts";
import type { CliSignal, Runtime } from "./_runtime.ts";

/** What a command runs with. */
export interface Context {
  rt: Runtime;
  /** Resolves with the first SIGINT / SIGTERM. */
  interrupted: Promise<CliSignal>;
  /** The signal received so far, if any. */
  signal(): CliSignal | undefined;
  /** Makes the command's printer once its options (--json, --quiet) are known. */
  output(parsed: Parsed): Output;
}

/** The exit code for an interruption by `signal`: 130 (SIGINT), 143 (SIGTERM). */
export function interruptCode(signal: CliSignal | undefined): number {
  return signal === "SIGTERM" ? 143 : 130;
}

/** The torrent or its files failed in the engine (torrent_error, file_error): exit code 1. */
export class EngineError extends Error {
  override name = "EngineError";
}

/** Output options every command takes. */
export const OUTPUT_SPECS: Record<string, OptionSpec> = {
  json: { kind: "flag", help: "print one JSON object per line on stdout (see docs/cli.md)" },
  quiet: { kind: "flag", short: "q", help: "no progress lines" },
  help: { kind: "flag", short: "h", help: "show this help" },
};

/** Session options of the commands that open one for transfers. */
export const SESSION_SPECS: Record<string, OptionSpec> = {
  public: {
    kind: "flag",
    help: "use libtorrent's default profile (internet: public DHT, LSD, UPnP, NAT-PMP, all interfaces) " +
      "instead of the isolated loopback-only one",
  },
  listen: { kind: "value", arg: "host:port", help: "listen address (isolated default 127.0.0.1:0)" },
  "dht-node": { kind: "list", arg: "host:port", help: "a DHT node to bootstrap from (repeatable)" },
  "upload-limit": { kind: "value", arg: "bytes/s", help: "upload rate limit, e.g. 500k (also for local peers)" },
  "download-limit": { kind: "value", arg: "bytes/s", help: "download rate limit, e.g. 2m (also for local peers)" },
  interval: { kind: "value", arg: "seconds", help: "seconds between progress reports (TTY 0.5, JSON 1, plain 5)" },
};

/** `--peer` (download, stream). */
export const PEER_SPEC: Record<string, OptionSpec> = {
  peer: { kind: "list", arg: "host:port", help: "a peer to connect to (repeatable)" },
};

/** Peers from `--peer`, checked against the profile. */
export function peersOf(p: Parsed): Endpoint[] {
  const out: Endpoint[] = [];
  for (const text of p.lists.get("peer") ?? []) {
    const ep = parseEndpoint(text, "--peer");
    if (!p.flags.has("public") && !isLoopback(ep.host)) {
      throw new UsageError(
        `--peer ${text}: not a loopback address; the default (isolated) profile never leaves this machine`,
        "add --public to reach other hosts",
      );
    }
    out.push(ep);
  }
  return out;
}

/** Seconds between progress reports. */
export function intervalOf(p: Parsed, out: Output): number {
  const v = p.values.get("interval");
  return v === undefined ? out.defaultInterval : parseSeconds(v, "--interval");
}

/** Opens the session the options describe. Bad options are usage errors (exit 2). */
export async function openSession(p: Parsed): Promise<Session> {
  const isPublic = p.flags.has("public");
  const dht = (p.lists.get("dht-node") ?? []).map((t) => {
    const ep = parseEndpoint(t, "--dht-node");
    if (!isPublic && !isLoopback(ep.host)) {
      throw new UsageError(
        `--dht-node ${t}: not a loopback address; the default (isolated) profile never leaves this machine`,
        "add --public to reach other hosts",
      );
    }
    return ep.host.includes(":") ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
  });
  const settings: Record<string, SettingValue> = {};
  const up = p.values.get("upload-limit"), down = p.values.get("download-limit");
  if (up !== undefined) settings.upload_rate_limit = limitOf(up, "--upload-limit");
  if (down !== undefined) settings.download_rate_limit = limitOf(down, "--download-limit");
  // libtorrent exempts peers on the local network (127.0.0.0/8 too) from rate limits by default.
  if (up !== undefined || down !== undefined) settings.ignore_limits_on_local_network = false;
  const listen = p.values.get("listen");
  if (listen !== undefined) parseEndpointOrZero(listen);
  return await Session.open({
    profile: isPublic ? "default" : "isolated",
    listen,
    dhtBootstrap: dht.length ? dht : undefined,
    settings,
  });
}

function parseEndpointOrZero(text: string): void {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):\d{1,5}$/.test(text)) {
    throw new UsageError(`--listen: "${text}" is not host:port (port 0 picks a free one)`);
  }
}

function limitOf(text: string, what: string): number {
  const n = parseBytes(text, what);
  if (n > 0x7fffffff) throw new UsageError(`${what}: at most 2 GiB/s`);
  return n;
}

/** The key a torrent's resume file is named by: its v1 info-hash, else v2. */
export function hashKey(h: InfoHash): string {
  return h.v1 ?? h.v2 ?? "";
}

/** The resume file of the torrent with `key` downloading into `dir`. */
export function resumePath(dir: string, key: string): string {
  return join(dir, `.${key}.torrentxt-resume`);
}

/** Writes `bytes` to `path` atomically: a temporary file beside it, flushed, then renamed over it. */
export function writeAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${globalThis.crypto.randomUUID().slice(0, 8)}`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A magnet link for a torrent: its info-hashes, name and (optionally) a peer to start from (x.pe). */
export function magnetOf(h: InfoHash, name: string, peer?: string): string {
  const parts: string[] = [];
  if (h.v1) parts.push(`xt=urn:btih:${h.v1}`);
  if (h.v2) parts.push(`xt=urn:btmh:1220${h.v2}`);
  if (name) parts.push(`dn=${encodeURIComponent(name)}`);
  if (peer) parts.push(`x.pe=${peer}`); // libtorrent reads x.pe without percent-decoding
  return `magnet:?${parts.join("&")}`;
}

/** "host:port" a peer on this machine reaches the session at (loopback listen only), else undefined. */
export function localPeerOf(session: Session, p: Parsed): string | undefined {
  if (p.flags.has("public")) return undefined;
  const listen = p.values.get("listen") ?? "127.0.0.1:0";
  const host = listen.slice(0, listen.lastIndexOf(":"));
  return `${host}:${session.listenPort}`;
}

/**
 * Resolves when `t` has every wanted piece (torrent_finished, or a state
 * of finished / seeding); rejects with EngineError on torrent_error or
 * file_error. `onMetadata` is called once when the metadata arrives.
 */
export function watchTorrent(
  t: Torrent,
  onMetadata: () => void,
): { finished: Promise<void>; stop(): Promise<void>; check(): void } {
  const events = t.events({
    types: ["torrent_finished", "state_changed", "torrent_error", "file_error", "metadata_received"],
  });
  let resolve!: () => void, reject!: (e: Error) => void;
  const finished = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let sawMetadata = false;
  const metadata = () => {
    if (sawMetadata) return;
    sawMetadata = true;
    onMetadata();
  };
  (async () => {
    for (;;) {
      const r = await events.next();
      if (r.done) return;
      const ev = r.value;
      if (ev.type === "metadata_received") metadata();
      else if (ev.type === "torrent_error") reject(new EngineError(`torrent error: ${ev.error} ${ev.file}`.trim()));
      else if (ev.type === "file_error") {
        reject(new EngineError(`file error (${ev.operation}) on ${ev.file}: ${ev.error}`));
      } else if (
        ev.type === "torrent_finished" ||
        (ev.type === "state_changed" && (ev.state === "finished" || ev.state === "seeding"))
      ) resolve();
    }
  })().catch(reject);
  return {
    finished,
    stop: async () => {
      await events.return();
    },
    /** Also notices a finished torrent or metadata from its status (e.g. resumed complete). */
    check() {
      const st = t.status();
      if (st.hasMetadata) metadata();
      if (st.hasMetadata && st.isFinished) resolve();
    },
  };
}
