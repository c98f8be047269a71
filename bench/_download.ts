// The transfer bench's downloader (runs under Deno or Bun): one isolated
// TorrentXT session, libtorrent's default settings, downloads the bench
// torrent from the seeder at 127.0.0.1:PORT into DIR, and prints one JSON line:
//   {runtime, bytes, seconds, mbps, cpu_seconds, rss_anon_kib, ...}
// Mirrors bench/py/download.py exactly: isolated profile, DHT off,
// alert_mask = error|status|connect, --transport tcp (default: uTP off) |
// utp (TCP off) | auto (both on), other settings libtorrent defaults; the
// torrent is added (not paused, not auto-managed), torrent_checked awaited,
// then torrent.connectPeer() (tc); `seconds` runs from the peer_connect
// event (libtorrent starts the outgoing connection on its next 0.5 s tick)
// to the torrent_finished event (all pieces downloaded and hash-checked),
// both as they arrive from the event stream; seconds_from_connect_peer runs
// from tc. rss_anon_kib is read at torrent_finished; cpu_seconds is
// user+system of the whole process (every thread, runtime start-up included)
// after the session is closed; cpu_seconds_transfer covers tc → finished.
// Output keys are those of download.py.
//
//   deno run -A --config deno.json bench/_download.ts --torrent F --peer PORT --save DIR
//   bun bench/_download.ts --torrent F --peer PORT --save DIR
import { readFileSync } from "node:fs";
import process from "node:process";
import { Session } from "../mod.ts";
import { cpuSeconds, emit, extraSettings, flag, procStatCpuSeconds, rssAnonKib, runtimeName } from "./_util.ts";

const args = process.argv.slice(2);
const torrentPath = flag(args, "--torrent", "");
const port = Number(flag(args, "--peer", "0"));
const save = flag(args, "--save", "");
const timeoutS = Number(flag(args, "--timeout", "300"));
if (!torrentPath || !port || !save) {
  console.error("usage: _download.ts --torrent FILE --peer PORT --save DIR [--transport tcp|utp|auto] [--timeout S]");
  process.exit(2);
}
const torrent = readFileSync(torrentPath);

// The same settings as bench/py/download.py: DHT off, alert_mask = error |
// status | connect, and the transport forced (libtorrent 2.0 tries uTP first
// for a connect_peer() address, so TCP needs uTP off).
const transport = flag(args, "--transport", "tcp");
const settings: Record<string, string | number | boolean> = { enable_dht: false, alert_mask: 1 | 64 | 32 };
if (transport === "tcp") settings.enable_outgoing_utp = settings.enable_incoming_utp = false;
else if (transport === "utp") settings.enable_outgoing_tcp = settings.enable_incoming_tcp = false;
// --tuning throughput: the session's "throughput" profile; --set name=value: extra settings.
const tuning = flag(args, "--tuning", "default") as "default" | "throughput";
Object.assign(settings, extraSettings(args));
const session = await Session.open({ profile: "isolated", tuning, settings });
const events = session.events({
  types: ["torrent_checked", "peer_connect", "torrent_finished", "torrent_error", "file_error"],
});
const timer = setTimeout(() => {
  console.error(`_download: no torrent_finished within ${timeoutS} s`);
  process.exit(1);
}, timeoutS * 1000);

const t = await session.add({ torrent, savePath: save });
let tPeer = 0; // when the peer_connect event arrived
let socket: string | null = null;
// One stream for every wait (breaking out of `for await` would end it).
async function until(type: "torrent_checked" | "torrent_finished"): Promise<void> {
  for (;;) {
    const r = await events.next();
    if (r.done) throw new Error("the event stream ended");
    const ev = r.value;
    if (ev.torrent !== t) continue;
    if (ev.type === type) return;
    if (ev.type === "peer_connect" && !tPeer) {
      tPeer = performance.now();
      socket = /\((TCP|uTP|[^)]*)\)\s*$/.exec(ev.message)?.[1] ?? null;
    }
    if (ev.type === "torrent_error" || ev.type === "file_error") throw new Error(`download failed: ${ev.message}`);
  }
}
await until("torrent_checked");
const cpu0 = cpuSeconds();
const tc = performance.now();
t.connectPeer("127.0.0.1", port);
await until("torrent_finished");
const t1 = performance.now();
const cpu1 = cpuSeconds();
const rss = rssAnonKib();
clearTimeout(timer);
if (!tPeer) throw new Error("no peer_connect event seen");
const s = t.status();
await t.remove();
await session.close(); // flushes the files and joins libtorrent's threads
const seconds = (t1 - tPeer) / 1000;
emit({
  runtime: runtimeName(),
  bytes: s.totalWanted,
  seconds,
  seconds_from_connect_peer: (t1 - tc) / 1000,
  mbps: s.totalWanted / 1e6 / seconds,
  cpu_seconds: cpuSeconds(),
  cpu_seconds_procstat: procStatCpuSeconds(),
  cpu_seconds_transfer: cpu1 - cpu0,
  rss_anon_kib: rss,
  transport,
  socket,
  connect_wait_seconds: (tPeer - tc) / 1000,
  payload_downloaded: s.totalDownload,
  timing: "peer_connect_event_to_torrent_finished_event",
});
process.exit(0);
