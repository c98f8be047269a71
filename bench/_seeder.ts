// The transfer bench's seeder: one isolated TorrentXT session that seeds the
// bench file for the whole run. Prints {"port":…} on stdout once seeding,
// then lives until its stdin closes (or SIGTERM), and prints a final stats line.
//
//   deno run -A --config deno.json bench/_seeder.ts --torrent FILE.torrent --save DIR [--transport tcp|utp|both]
//
// --transport tcp (the transfer bench's default) turns incoming uTP off on the
// seeder, so downloaders — which by libtorrent's defaults try uTP first — get
// TCP; utp turns incoming TCP off; both keeps libtorrent's defaults.
import { readFileSync } from "node:fs";
import process from "node:process";
import { Session } from "../mod.ts";
import { cpuSeconds, emit, extraSettings, flag, rssAnonKib, runtimeName } from "./_util.ts";

const args = process.argv.slice(2);
const torrentPath = flag(args, "--torrent", "");
const save = flag(args, "--save", "");
if (!torrentPath || !save) {
  console.error("usage: _seeder.ts --torrent FILE --save DIR");
  process.exit(2);
}

const transport = flag(args, "--transport", "both");
const settings: Record<string, string | number | boolean> = { enable_dht: false };
if (transport === "tcp") settings.enable_incoming_utp = false;
else if (transport === "utp") settings.enable_incoming_tcp = false;
const tuning = flag(args, "--tuning", "default") as "default" | "throughput";
Object.assign(settings, extraSettings(args));
const session = await Session.open({ profile: "isolated", tuning, settings });
const t0 = performance.now();
const events = session.events({ types: ["state_changed", "torrent_error", "file_error", "torrent_checked"] });
const t = await session.add({ torrent: readFileSync(torrentPath), savePath: save });
const st = t.status();
if (!st.isSeeding) {
  for await (const ev of events) {
    if (ev.torrent !== t) continue;
    if (ev.type === "torrent_error" || ev.type === "file_error") throw new Error(`seeder: ${ev.message}`);
    if (ev.type === "state_changed" && ev.state === "seeding") break;
    if (ev.type === "torrent_checked" && t.status().isSeeding) break;
  }
}
const s = t.status();
if (!s.isSeeding) throw new Error(`seeder: not seeding after the check (state ${s.state}, progress ${s.progress})`);
emit({ port: session.listenPort, runtime: runtimeName(), transport, check_seconds: (performance.now() - t0) / 1000 });

let done = false;
async function finish() {
  if (done) return;
  done = true;
  const s = t.status();
  emit({ uploaded: s.totalUpload, cpu_seconds: cpuSeconds(), rss_anon_kib: rssAnonKib() });
  await session.close();
  process.exit(0);
}
process.stdin.on("end", finish);
process.stdin.on("close", finish);
process.stdin.resume();
process.on("SIGTERM", finish);
