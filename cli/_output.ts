/**
 * What the CLI prints: TTY progress bars that redraw one line, plain lines
 * when stdout is not a terminal, or one JSON object per line with `--json`.
 * Messages for people go to stdout (or stderr for warnings and errors);
 * with `--json` stdout carries JSON lines only.
 *
 * @module
 */
import type { TorrentStatus } from "../mod.ts";
import type { Runtime } from "./_runtime.ts";

/** Human-readable bytes: 1.5 MB (powers of 1000, like most clients). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB", "PB"];
  let v = n / 1000, u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}

/** A power-of-two size such as a piece size: 16 KiB, 4 MiB. */
export function formatBinary(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** Human-readable rate: 1.5 MB/s. */
export function formatRate(n: number): string {
  return `${formatBytes(Math.round(n))}/s`;
}

/** An ETA as h:mm:ss or m:ss; "-" when unknown. */
export function formatEta(s: number | null): string {
  if (s === null || !Number.isFinite(s) || s < 0) return "-";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

/** The fields of a progress report (JSON `{"type":"progress"}` lines carry these). */
export interface ProgressFields {
  name: string;
  state: string;
  progress: number;
  totalDone: number;
  totalWanted: number;
  downloadRate: number;
  uploadRate: number;
  peers: number;
  seeds: number;
  eta: number | null;
  downloaded: number;
  uploaded: number;
  redundant: number;
  failed: number;
}

/** The progress fields of a status. */
export function progressOf(st: TorrentStatus): ProgressFields {
  return {
    name: st.name,
    state: st.state,
    progress: st.progress,
    totalDone: st.totalDone,
    totalWanted: st.totalWanted,
    downloadRate: st.downloadRate,
    uploadRate: st.uploadRate,
    peers: st.numPeers,
    seeds: st.numSeeds,
    eta: st.eta,
    downloaded: st.totalDownload,
    uploaded: st.totalUpload,
    redundant: st.totalRedundantBytes,
    failed: st.totalFailedBytes,
  };
}

/** Output modes chosen from the options and the terminal. */
export interface OutputOptions {
  /** One JSON object per line on stdout. */
  json: boolean;
  /** No progress lines (results and errors still print). */
  quiet: boolean;
}

/** The CLI's printer. */
export class Output {
  readonly json: boolean;
  readonly tty: boolean;
  readonly quiet: boolean;
  #rt: Runtime;
  #barShown = false;

  constructor(rt: Runtime, o: OutputOptions) {
    this.#rt = rt;
    this.json = o.json;
    this.quiet = o.quiet;
    this.tty = !o.json && rt.stdoutIsTTY();
  }

  /** Default seconds between progress reports: 0.5 on a terminal, 1 for JSON, 5 for plain lines. */
  get defaultInterval(): number {
    return this.tty ? 0.5 : this.json ? 1 : 5;
  }

  /** A JSON line (only with --json). */
  event(type: string, fields: Record<string, unknown> = {}): void {
    if (!this.json) return;
    this.#rt.write(JSON.stringify({ type, ...fields }) + "\n");
  }

  /** A line for people on stdout (not with --json). */
  say(text: string): void {
    if (this.json) return;
    this.#endBar();
    this.#rt.write(text + "\n");
  }

  /** A warning on stderr. */
  warn(text: string): void {
    this.#endBar();
    this.#rt.writeErr(`torrentxt: warning: ${text}\n`);
  }

  /** An error on stderr, and with --json also an error line on stdout. */
  error(text: string, code: string, exitCode: number, hint?: string): void {
    this.#endBar();
    this.#rt.writeErr(`torrentxt: ${text}\n${hint ? `(${hint})\n` : ""}`);
    this.event("error", { code, message: text, exitCode });
  }

  /** A progress report: a redrawn bar (TTY), a plain line, or a JSON line. */
  progress(p: ProgressFields, mode: "download" | "seed" = "download"): void {
    if (this.json) {
      this.event("progress", { ...p });
      return;
    }
    if (this.quiet) return;
    if (this.tty) {
      this.#rt.write("\r\x1b[K" + this.#bar(p, mode));
      this.#barShown = true;
    } else {
      this.#rt.write(this.#plain(p, mode) + "\n");
    }
  }

  /** Ends a redrawn bar line, so the next output starts on a fresh line. */
  #endBar(): void {
    if (this.#barShown) {
      this.#rt.write("\n");
      this.#barShown = false;
    }
  }

  /** Finishes any bar line (call before exiting). */
  flush(): void {
    this.#endBar();
  }

  #plain(p: ProgressFields, mode: "download" | "seed"): string {
    if (mode === "seed") {
      return `${p.name}: seeding, ${formatBytes(p.uploaded)} uploaded, up ${
        formatRate(p.uploadRate)
      }, ${p.peers} peers`;
    }
    return `${p.name}: ${(p.progress * 100).toFixed(1)}% (${formatBytes(p.totalDone)} of ${
      formatBytes(p.totalWanted)
    })` +
      `, ${p.state.replaceAll("_", " ")}, down ${formatRate(p.downloadRate)}, up ${formatRate(p.uploadRate)}` +
      `, ${p.peers} peers, ETA ${formatEta(p.eta)}`;
  }

  #bar(p: ProgressFields, mode: "download" | "seed"): string {
    const cols = Math.max(40, this.#rt.columns()) - 1;
    const tail = mode === "seed"
      ? ` seeding  ↑ ${formatRate(p.uploadRate)}  ${formatBytes(p.uploaded)} up  ${p.peers} peers`
      : ` ${(p.progress * 100).toFixed(1).padStart(5)}%  ↓ ${formatRate(p.downloadRate)}  ↑ ${
        formatRate(p.uploadRate)
      }  ${p.peers} peers  ETA ${formatEta(p.eta)}`;
    const room = cols - tail.length;
    const barWidth = Math.max(10, Math.min(30, Math.floor(room / 2)));
    const nameWidth = Math.max(4, room - barWidth - 3);
    const name = p.name.length > nameWidth ? p.name.slice(0, nameWidth - 1) + "…" : p.name.padEnd(nameWidth);
    const fill = Math.round((mode === "seed" ? 1 : p.progress) * barWidth);
    const bar = "█".repeat(fill) + "░".repeat(barWidth - fill);
    return `${name} [${bar}]${tail}`;
  }
}
