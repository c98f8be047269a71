// Shared set-up of the interop tests (tests/interop/*.test.ts): independent
// BitTorrent clients (Transmission, aria2, WebTorrent) and an independent
// tracker (bittorrent-tracker) run as child processes on 127.0.0.1, against
// TorrentXT sessions. node:* modules only, so it runs under Deno and Bun.
//
// The peers are installed by scripts/setup_interop.sh. A missing peer FAILS
// its tests, unless TORRENTXT_INTEROP_ALLOW_SKIP=1 says a skip is fine (a
// developer machine without them); CI never sets it.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, relative, sep } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Session, SettingValue, Torrent } from "../../mod.ts";
import { openIsolated, type TempDir, waitFor } from "../_helpers.ts";

export const INTEROP_DIR = dirname(fileURLToPath(import.meta.url));
/** Where setup_interop.sh installs WebTorrent and bittorrent-tracker. */
export const NODE_DIR = join(INTEROP_DIR, "node");

/** Per-test limit (ms): only there so nothing hangs forever. */
export const INTEROP_TIMEOUT = 60_000;

/**
 * The shared content: a few MiB over several files in nested directories,
 * sizes that are not multiples of a piece (and a one-byte file).
 */
export const INTEROP_TREE: Record<string, number> = {
  "big.bin": 1_310_719,
  "docs/readme.txt": 4_099,
  "docs/one.byte": 1,
  "media/a/clip.bin": 917_507,
  "media/b.bin": 655_360,
};
export const PIECE_SIZE = 65_536;
/** Bytes of INTEROP_TREE. */
export const INTEROP_BYTES = Object.values(INTEROP_TREE).reduce((a, b) => a + b, 0);

/** Writes INTEROP_TREE under `root/name`; returns that directory. */
export function writeContent(root: string, name: string): string {
  const top = join(root, name);
  for (const [rel, size] of Object.entries(INTEROP_TREE)) {
    const file = join(top, ...rel.split("/"));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(size));
  }
  return top;
}

/** relative path ("/") → sha256 hex, of every regular file under `root`. */
export function sha256Tree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, ent.name);
      if (ent.isDirectory()) walk(p);
      else out.set(relative(root, p).split(sep).join("/"), createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
  };
  walk(root);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Asserts that `actual` holds the same files as `expected`, compared by
 * sha256. With `pads`, files under a `.pad/` directory (the BEP 47 pad files
 * of a hybrid torrent, which a v1-only client writes out as ordinary files)
 * are allowed, must hold only zeros, and are returned (count).
 */
export function assertSameBytes(expected: string, actual: string, who: string, o: { pads?: boolean } = {}): number {
  assert.ok(existsSync(actual), `${who}: ${actual} does not exist`);
  const want = sha256Tree(expected), got = sha256Tree(actual);
  let pads = 0;
  if (o.pads) {
    for (const rel of [...got.keys()]) {
      if (!rel.startsWith(".pad/")) continue;
      const bytes = readFileSync(join(actual, rel));
      assert.ok(bytes.every((b) => b === 0), `${who}: pad file ${rel} holds non-zero bytes`);
      got.delete(rel);
      pads++;
    }
  }
  assert.equal(want.size, Object.keys(INTEROP_TREE).length, "the source tree is incomplete");
  assert.deepEqual([...got.keys()], [...want.keys()], `${who}: the downloaded tree has different files`);
  for (const [rel, h] of want) assert.equal(got.get(rel), h, `${who}: ${rel}: sha256 differs`);
  return pads;
}

// ---------------------------------------------------------------------------
// Peers present or not

/** Whether a missing peer may skip its tests (TORRENTXT_INTEROP_ALLOW_SKIP=1), else they fail. */
export const ALLOW_SKIP = process.env.TORRENTXT_INTEROP_ALLOW_SKIP === "1";

/** Full path of `bin` on PATH, or undefined. */
export function which(bin: string): string | undefined {
  for (const d of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const p = join(d || ".", bin);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * What is missing for a peer (an empty list when it is all there): the
 * binaries on PATH and the files (node packages) named.
 */
export function missing(bins: string[], files: string[] = []): string[] {
  return [...bins.filter((b) => !which(b)), ...files.filter((f) => !existsSync(f))];
}

/**
 * The `skip` option of a peer's tests: false when the peer is there; a
 * reason when it is missing and skipping is allowed. When it is missing and
 * skipping is not allowed, returns false (the test runs) and `requirePeer`
 * makes it fail with the install hint.
 */
export function skipUnlessPresent(peer: string, lack: string[]): string | false {
  if (lack.length === 0) return false;
  return ALLOW_SKIP ? `${peer} is not installed (missing ${lack.join(", ")}); TORRENTXT_INTEROP_ALLOW_SKIP=1` : false;
}

/** Fails the test when the peer is missing (see skipUnlessPresent). */
export function requirePeer(peer: string, lack: string[]): void {
  assert.deepEqual(
    lack,
    [],
    `${peer} is not installed (missing ${lack.join(", ")}): run scripts/setup_interop.sh as root, ` +
      `or set TORRENTXT_INTEROP_ALLOW_SKIP=1 to skip these tests`,
  );
}

// ---------------------------------------------------------------------------
// The matrix counted

/** One interop case run to the end (bytes compared). */
export interface Case {
  peer: string;
  /** "peer→us": the peer seeds, we download; "us→peer": we seed, the peer downloads. */
  direction: "peer→us" | "us→peer";
  transport: "tcp" | "utp";
  encryption: "rc4" | "plaintext";
  /** Who made the .torrent (and which kind, when not v1: "torrentxt-hybrid"). */
  madeBy: string;
  /** How the downloader found the seeder. */
  discovery: "tracker" | "direct";
}

/** Cases run (passed) in this file, for the summary line. */
export class Matrix {
  readonly cases: Case[] = [];
  readonly notes: string[] = [];
  constructor(readonly peer: string) {}
  add(c: Omit<Case, "peer">): void {
    this.cases.push({ peer: this.peer, ...c });
  }
  /** A checked outcome that is not a transfer (a documented refusal). */
  note(text: string): void {
    this.notes.push(text);
  }
  /** One line, e.g. `interop matrix: transmission 3.00 — 6 cases (directions 2 × transports 2): …`. */
  summary(version: string): string {
    const uniq = (f: (c: Case) => string) => [...new Set(this.cases.map(f))].sort();
    const dirs = uniq((c) => c.direction), tps = uniq((c) => c.transport);
    const rows = this.cases.map((c) =>
      `${c.direction} ${c.transport} ${c.encryption} made-by-${c.madeBy} ${c.discovery}`
    );
    return `interop matrix: ${this.peer} ${version} — ${this.cases.length} cases ran ` +
      `(directions ${dirs.length} [${dirs.join(", ")}] × transports ${tps.length} [${tps.join(", ")}], ` +
      `encryption [${uniq((c) => c.encryption).join(", ")}], discovery [${uniq((c) => c.discovery).join(", ")}]): ` +
      rows.join("; ") + (this.notes.length ? `; also checked: ${this.notes.join("; ")}` : "");
  }
}

// ---------------------------------------------------------------------------
// Child processes and sessions, and their clean-up

const live = { procs: new Set<Proc>(), sessions: new Set<Session>() };

/**
 * Stops every child process and closes every session this file started that
 * is still running. Waits that depend on them then end with an error, so a
 * case that hung (and whose test timed out) settles: call it in after().
 */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...live.procs].map((p) => p.stop()));
  await Promise.allSettled([...live.sessions].map((s) => s.close()));
}

/** A child process whose stdout is read as lines; killed on dispose. */
export class Proc implements AsyncDisposable {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  #stderr = "";
  #waiters = new Set<() => void>();
  #exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;

  constructor(readonly name: string, cmd: string, args: string[], opts: { cwd?: string; stdin?: boolean } = {}) {
    this.child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    createInterface({ input: this.child.stdout! }).on("line", (l) => {
      this.lines.push(l);
      this.#wake();
    });
    this.child.stderr!.on("data", (b: Uint8Array) => {
      this.#stderr = (this.#stderr + new TextDecoder().decode(b)).slice(-4000);
    });
    live.procs.add(this);
    this.#exited = new Promise((resolve) => {
      this.child.once("exit", (code) => {
        live.procs.delete(this);
        this.exitCode = code;
        this.#wake();
        resolve(code);
      });
      this.child.once("error", (e) => {
        live.procs.delete(this);
        this.#stderr += `\nspawn failed: ${e.message}`;
        this.exitCode = -1;
        this.#wake();
        resolve(-1);
      });
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** What to print when something fails: the last lines and stderr. */
  tail(): string {
    return `${this.name}: stdout tail:\n${this.lines.slice(-15).join("\n")}\nstderr tail:\n${this.#stderr}`;
  }

  /** Resolves with the first stdout line (from index `since`) that satisfies `pred`; rejects if the process exits first. */
  async line(pred: (l: string) => boolean, what: string, since = 0): Promise<string> {
    for (let i = since;;) {
      for (; i < this.lines.length; i++) if (pred(this.lines[i])) return this.lines[i];
      if (this.exitCode !== undefined) {
        throw new Error(`${this.name} exited (${this.exitCode}) before ${what}\n${this.tail()}`);
      }
      await new Promise<void>((resolve) => {
        const w = () => {
          this.#waiters.delete(w);
          resolve();
        };
        this.#waiters.add(w);
      });
    }
  }

  /** The first JSON line whose `event` is `event` (from line index `since`). */
  async event<T = Record<string, unknown>>(event: string, since = 0): Promise<T> {
    const l = await this.line(
      (l) => {
        try {
          return JSON.parse(l).event === event;
        } catch {
          return false;
        }
      },
      `the "${event}" line`,
      since,
    );
    return JSON.parse(l) as T;
  }

  /** Resolves with the exit code. */
  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** Ends the process: closes stdin (if piped), then SIGTERM, then SIGKILL. Idempotent. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.stdin?.end();
    const t1 = setTimeout(() => this.child.kill("SIGTERM"), this.child.stdin ? 2_000 : 0);
    const t2 = setTimeout(() => this.child.kill("SIGKILL"), 6_000);
    await this.#exited;
    clearTimeout(t1);
    clearTimeout(t2);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** A free port on 127.0.0.1 (TCP; free the moment it is read). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The version line a binary prints for `args`, or "?" */
export function versionOf(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  const m = re.exec(`${r.stdout ?? ""}\n${r.stderr ?? ""}`);
  return m ? m[1] : "?";
}

/**
 * Polls `fn` (every 100 ms) until it returns a value other than undefined.
 * For peers that offer no event to wait on (Transmission's RPC): the wait
 * ends on the state observed, never after a fixed time.
 */
export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  for (;;) {
    let v: T | undefined;
    try {
      v = await fn();
    } catch (e) {
      throw new Error(`while waiting for ${what}: ${(e as Error).message}`, { cause: e });
    }
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------------------------------------------------------------------------
// bittorrent-tracker

/** One announce the tracker handled. */
export interface TrackerEvent {
  event: "start" | "complete" | "update" | "stop";
  addr: string;
  infoHash: string;
  left: number;
}

/** bittorrent-tracker's server (HTTP and UDP) in a node child process on 127.0.0.1. */
export class IndependentTracker implements AsyncDisposable {
  private constructor(readonly proc: Proc, readonly httpPort: number, readonly udpPort: number) {}

  static async start(): Promise<IndependentTracker> {
    const proc = new Proc("bittorrent-tracker", "node", [join(NODE_DIR, "tracker.mjs")], { stdin: true });
    try {
      const l = await proc.event<{ http: number; udp: number }>("listening");
      return new IndependentTracker(proc, l.http, l.udp);
    } catch (e) {
      await proc.stop();
      throw e;
    }
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}/announce`;
  }

  get udpUrl(): string {
    return `udp://127.0.0.1:${this.udpPort}`;
  }

  /** The first announce (recorded at stdout line >= `since`) matching `pred`. */
  async announce(pred: (e: TrackerEvent) => boolean, what: string, since = 0): Promise<TrackerEvent> {
    const l = await this.proc.line(
      (l) => {
        try {
          const e = JSON.parse(l) as TrackerEvent;
          return e.event !== ("listening" as string) && pred(e);
        } catch {
          return false;
        }
      },
      what,
      since,
    );
    return JSON.parse(l) as TrackerEvent;
  }

  /** An announce from the peer listening on `port` about `infoHash`. */
  announceFrom(port: number, infoHash: string, event?: TrackerEvent["event"]): Promise<TrackerEvent> {
    return this.announce(
      (e) => e.addr.endsWith(`:${port}`) && e.infoHash === infoHash && (event === undefined || e.event === event),
      `an announce from port ${port}${event ? ` (${event})` : ""}`,
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.proc.stop();
  }
}

// ---------------------------------------------------------------------------
// Our side

/** Session settings that pin the transport and the encryption of every connection. */
export function wireSettings(transport: "tcp" | "utp", encryption: "rc4" | "plaintext"): Record<string, SettingValue> {
  const pe = encryption === "rc4"
    // pe_forced both ways, RC4 only: no plaintext connection can carry a byte.
    ? { out_enc_policy: 0, in_enc_policy: 0, allowed_enc_level: 2 }
    // pe_disabled: no encrypted handshake either way.
    : { out_enc_policy: 2, in_enc_policy: 2, allowed_enc_level: 3 };
  const tp = transport === "tcp"
    ? { enable_outgoing_utp: false, enable_incoming_utp: false, enable_outgoing_tcp: true, enable_incoming_tcp: true }
    : { enable_outgoing_utp: true, enable_incoming_utp: true, enable_outgoing_tcp: false, enable_incoming_tcp: false };
  return { ...pe, ...tp };
}

/**
 * An isolated session whose connections all use `transport` and
 * `encryption`, listening on `host` (a 127.0.0.0/8 address) and dialling
 * from it (`outgoing_interfaces`), so that a peer can tell sessions apart
 * by address.
 */
export async function openPinned(
  transport: "tcp" | "utp",
  encryption: "rc4" | "plaintext",
  host = "127.0.0.1",
): Promise<Session> {
  const s = await openIsolated({
    listen: `${host}:0`,
    settings: { ...wireSettings(transport, encryption), outgoing_interfaces: host },
  });
  live.sessions.add(s);
  return s;
}

/**
 * Asserts from the session's cumulative counters that its payload went over
 * `transport`: uTP payload packets in (`"download"`) or out (`"upload"`)
 * when pinned to uTP, none at all when pinned to TCP, and payload moved.
 */
export async function assertTransport(
  session: Session,
  transport: "tcp" | "utp",
  role: "download" | "upload",
): Promise<void> {
  const st = await session.stats();
  const c = (k: string) => st.counters[k] ?? 0;
  const payload = role === "download" ? st.totalDownload : st.totalUpload;
  assert.ok(payload >= INTEROP_BYTES, `${role}: ${payload} payload bytes moved, expected at least ${INTEROP_BYTES}`);
  const utp = c(role === "download" ? "utp.utp_payload_pkts_in" : "utp.utp_payload_pkts_out");
  if (transport === "utp") assert.ok(utp > 0, `${role} pinned to uTP, yet no uTP payload packet`);
  else {
    assert.equal(c("utp.utp_payload_pkts_in") + c("utp.utp_payload_pkts_out"), 0, "pinned to TCP, yet uTP payload");
  }
}

/**
 * Waits until `t` (in `session`) has every piece, checks the transport by
 * the session's counters, then closes the session (joining its disk
 * threads: every byte is on disk after it). Torrent and file errors end the
 * wait with their message. Connections seen live while pieces arrive (on
 * piece_finished; a fast transfer may be over before the first of those
 * events is read) must show the pinned transport and encryption in their
 * flags: a second look, beside the pinning that makes any other wire
 * impossible.
 */
export async function downloadAndClose(
  session: Session,
  t: Torrent,
  expect: { transport: "tcp" | "utp"; encryption: "rc4" | "plaintext" },
): Promise<void> {
  const events = session.events();
  try {
    if (!t.status().isFinished) {
      await waitFor(events, (ev) => {
        if (ev.torrent !== t) return false;
        if (ev.type === "torrent_error" || ev.type === "file_error") throw new Error(`${ev.type}: ${ev.message}`);
        if (ev.type === "piece_finished") {
          for (const p of t.peers()) {
            if (p.connectionType !== "bittorrent" || p.flags.connecting || p.flags.handshake) continue;
            assert.equal(p.flags.utp, expect.transport === "utp", `${p.address} (${p.client}): uTP flag`);
            assert.equal(p.flags.rc4, expect.encryption === "rc4", `${p.address} (${p.client}): RC4 flag`);
            assert.equal(p.flags.encrypted, expect.encryption === "rc4", `${p.address}: encrypted handshake`);
          }
        }
        return ev.type === "torrent_finished" || (ev.type === "state_changed" && ev.state === "seeding");
      }, "torrent_finished");
    }
    const st = t.status();
    assert.equal(st.progress, 1, "the download is complete");
    await assertTransport(session, expect.transport, "download");
  } finally {
    await events.return();
  }
  await session.close();
}

/** A TempDir's fresh subdirectory. */
export function subdir(dir: TempDir, name: string): string {
  const p = dir.join(name);
  mkdirSync(p, { recursive: true });
  return p;
}
