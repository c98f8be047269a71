// A Transmission daemon (Debian's transmission-daemon) for the interop
// tests, kept on loopback by its settings.json, driven over its JSON-RPC.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { freePort, Proc, until, versionOf } from "./_interop.ts";

/** Transmission's torrent status codes (RPC `status`). */
export const TR_STATUS = {
  stopped: 0,
  checkWait: 1,
  checking: 2,
  downloadWait: 3,
  downloading: 4,
  seedWait: 5,
  seeding: 6,
};

export interface TrTorrent {
  id: number;
  hashString: string;
  status: number;
  percentDone: number;
  error: number;
  errorString: string;
  haveValid: number;
  downloadDir: string;
  peers: { address: string; port: number; isEncrypted: boolean; isUTP: boolean; isIncoming: boolean }[];
}

const FIELDS = [
  "id",
  "hashString",
  "status",
  "percentDone",
  "error",
  "errorString",
  "haveValid",
  "downloadDir",
  "peers",
];

export function transmissionVersion(): string {
  return versionOf("transmission-daemon", ["--version"], /transmission-daemon\s+(\S+)/);
}

/**
 * transmission-daemon in the foreground with its own config directory:
 * peer port and RPC bound to 127.0.0.1 (IPv6: ::1), no DHT, no LSD, no PEX,
 * no UPnP / NAT-PMP port forwarding, no blocklist updates; uTP on;
 * encryption "preferred" (1: MSE offered, plaintext accepted), so the other
 * side's policy decides each connection.
 */
export class TransmissionDaemon implements AsyncDisposable {
  #sid = "";
  private constructor(readonly proc: Proc, readonly peerPort: number, readonly rpcPort: number) {}

  static async start(home: string): Promise<TransmissionDaemon> {
    const conf = join(home, "config");
    mkdirSync(conf, { recursive: true });
    const peerPort = await freePort(), rpcPort = await freePort();
    const settings = {
      "bind-address-ipv4": "127.0.0.1",
      "bind-address-ipv6": "::1",
      "dht-enabled": false,
      "lpd-enabled": false,
      "pex-enabled": false,
      "port-forwarding-enabled": false,
      "utp-enabled": true,
      "encryption": 1,
      "blocklist-enabled": false,
      "peer-port": peerPort,
      "peer-port-random-on-start": false,
      "rpc-enabled": true,
      "rpc-bind-address": "127.0.0.1",
      "rpc-port": rpcPort,
      "rpc-authentication-required": false,
      "rpc-whitelist-enabled": true,
      "rpc-whitelist": "127.0.0.1",
      "rpc-host-whitelist-enabled": false,
      "download-dir": join(home, "downloads"),
      "incomplete-dir-enabled": false,
      "watch-dir-enabled": false,
      "start-added-torrents": true,
      "trash-original-torrent-files": false,
      "speed-limit-up-enabled": false,
      "speed-limit-down-enabled": false,
      "alt-speed-enabled": false,
      "ratio-limit-enabled": false,
      "idle-seeding-limit-enabled": false,
      "queue-stalled-enabled": false,
      "download-queue-enabled": false,
      "seed-queue-enabled": false,
      "scrape-paused-torrents-enabled": false,
      "preallocation": 0,
      "message-level": 1,
    };
    writeFileSync(join(conf, "settings.json"), JSON.stringify(settings, null, 2));
    const proc = new Proc("transmission-daemon", "transmission-daemon", ["--foreground", "--config-dir", conf]);
    const d = new TransmissionDaemon(proc, peerPort, rpcPort);
    try {
      // Ready once its RPC answers (it has no readiness line to wait on).
      await until(async () => {
        if (proc.exitCode !== undefined) throw new Error(`transmission-daemon exited\n${proc.tail()}`);
        try {
          await d.rpc("session-get", { fields: ["version"] });
          return true;
        } catch {
          return undefined;
        }
      }, "transmission-daemon's RPC");
      return d;
    } catch (e) {
      await proc.stop();
      throw e;
    }
  }

  /** One JSON-RPC call; throws on a transport error or a result other than "success". */
  async rpc<T = Record<string, unknown>>(method: string, args: Record<string, unknown> = {}): Promise<T> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await fetch(`http://127.0.0.1:${this.rpcPort}/transmission/rpc`, {
        method: "POST",
        headers: { "X-Transmission-Session-Id": this.#sid, "Content-Type": "application/json" },
        body: JSON.stringify({ method, arguments: args }),
      });
      if (res.status === 409) {
        this.#sid = res.headers.get("X-Transmission-Session-Id") ?? "";
        await res.body?.cancel();
        continue;
      }
      const body = await res.json() as { result: string; arguments: T };
      if (body.result !== "success") throw new Error(`transmission ${method}: ${body.result}`);
      return body.arguments;
    }
    throw new Error(`transmission ${method}: no session id`);
  }

  /** Adds a .torrent (bytes) with its data in `dir`; returns its id. */
  async add(torrent: Uint8Array, dir: string): Promise<number> {
    const r = await this.rpc<{ "torrent-added"?: { id: number }; "torrent-duplicate"?: { id: number } }>(
      "torrent-add",
      { metainfo: Buffer.from(torrent).toString("base64"), "download-dir": dir, paused: false },
    );
    const t = r["torrent-added"] ?? r["torrent-duplicate"];
    if (!t) throw new Error("transmission torrent-add: no torrent in the reply");
    return t.id;
  }

  async get(id: number): Promise<TrTorrent> {
    const r = await this.rpc<{ torrents: TrTorrent[] }>("torrent-get", { ids: [id], fields: FIELDS });
    if (r.torrents.length !== 1) throw new Error(`transmission: no torrent ${id}`);
    const t = r.torrents[0];
    if (t.error !== 0) throw new Error(`transmission torrent ${id}: error ${t.error}: ${t.errorString}`);
    return t;
  }

  /** Waits until torrent `id` satisfies `pred` (polling its RPC: Transmission has no event to wait on). */
  waitTorrent(id: number, pred: (t: TrTorrent) => boolean, what: string): Promise<TrTorrent> {
    return until(async () => {
      if (this.proc.exitCode !== undefined) throw new Error(`transmission-daemon exited\n${this.proc.tail()}`);
      const t = await this.get(id);
      return pred(t) ? t : undefined;
    }, what);
  }

  /**
   * Waits until torrent `id` has every piece. Its connections, as
   * Transmission reports them meanwhile (RPC `peers`), must all be over
   * `transport` and encrypted or not as `encryption` says — Transmission's
   * own account of the wire — and at least one must have been seen.
   */
  async waitDownloaded(
    id: number,
    expect: { transport: "tcp" | "utp"; encryption: "rc4" | "plaintext" },
  ): Promise<TrTorrent> {
    let seen = 0;
    const t = await this.waitTorrent(id, (t) => {
      for (const p of t.peers) {
        seen++;
        if (p.isUTP !== (expect.transport === "utp") || p.isEncrypted !== (expect.encryption === "rc4")) {
          throw new Error(`Transmission's peer ${p.address}:${p.port}: uTP ${p.isUTP}, encrypted ${p.isEncrypted}`);
        }
      }
      return t.percentDone === 1;
    }, "Transmission's download");
    if (seen === 0) throw new Error("Transmission never listed the connection it downloaded over");
    return t;
  }

  /** Verifies torrent `id`'s data and waits until it seeds. */
  async verifyAndSeed(id: number): Promise<TrTorrent> {
    await this.rpc("torrent-verify", { ids: [id] });
    return this.waitTorrent(
      id,
      (t) => t.status === TR_STATUS.seeding && t.percentDone === 1,
      "Transmission seeding after its check",
    );
  }

  /** Stops torrent `id` (Transmission flushes and closes its files) and waits until it is stopped. */
  async stopTorrent(id: number): Promise<void> {
    await this.rpc("torrent-stop", { ids: [id] });
    await this.waitTorrent(id, (t) => t.status === TR_STATUS.stopped, "Transmission's torrent stopped");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.proc.stop();
  }
}

/** Runs transmission-create: a v1 torrent of `path` with `pieceKiB` pieces (and a tracker). */
export async function transmissionCreate(path: string, out: string, pieceKiB: number, tracker?: string): Promise<void> {
  const args = ["-o", out, "-s", String(pieceKiB), "-c", "made by transmission-create for TorrentXT's interop tests"];
  if (tracker) args.push("-t", tracker);
  args.push(path);
  await using p = new Proc("transmission-create", "transmission-create", args);
  const code = await p.exited();
  if (code !== 0) throw new Error(`transmission-create exited ${code}\n${p.tail()}`);
}
