// The WebTorrent downloader of bench/transfer.ts (--anchor webtorrent), run
// with node. Downloads the bench torrent from the seeder at 127.0.0.1:PORT
// into DIR and prints one JSON line with the keys of bench/_download.ts.
//
//   node bench/webtorrent/download.mjs --torrent F --peer PORT --save DIR [--timeout S]
//
// Isolated like every bench peer: no DHT, no LSD, no trackers (announce
// list emptied), no UPnP / NAT-PMP, no WebRTC (not installed, see
// package.json), listening on 127.0.0.1 only; the one peer is added by
// address. `seconds` runs from the first wire (the peer connection
// WebTorrent opens to the seeder) to the torrent's "done" event (every
// piece downloaded and SHA-1 verified, as libtorrent's torrent_finished).
import { readFileSync } from "node:fs";
import process from "node:process";
import WebTorrent from "webtorrent";

const args = process.argv.slice(2);
const flag = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const torrentPath = flag("--torrent", "");
const port = Number(flag("--peer", "0"));
const save = flag("--save", "");
const timeoutS = Number(flag("--timeout", "300"));
if (!torrentPath || !port || !save) {
  console.error("usage: download.mjs --torrent FILE --peer PORT --save DIR [--timeout S]");
  process.exit(2);
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
function rssAnonKib() {
  const m = /RssAnon:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : 0;
}

const timer = setTimeout(() => {
  console.error(`webtorrent download: not done within ${timeoutS} s`);
  process.exit(1);
}, timeoutS * 1000);

const client = new WebTorrent({
  dht: false,
  lsd: false,
  tracker: false,
  natUpnp: false,
  natPmp: false,
  utp: false,
  webSeeds: false,
});
client.on("error", (err) => {
  console.error(`webtorrent: ${err?.message ?? err}`);
  process.exit(1);
});
// WebTorrent's connection pool listens on every interface and has no host
// option: re-bind its TCP server to 127.0.0.1 (this bench needs no incoming
// peers, but nothing here listens beyond loopback).
await new Promise((resolve) => (client.listening ? resolve() : client.once("listening", resolve)));
const server = client._connPool?.tcpServer;
if (server) {
  await new Promise((resolve) => server.close(() => resolve()));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
}

const torrent = client.add(readFileSync(torrentPath), { path: save, announce: [], private: false });
await new Promise((resolve, reject) => {
  torrent.once("ready", resolve);
  torrent.once("error", reject);
});
let tPeer = 0;
torrent.once("wire", () => (tPeer = performance.now()));
const cpu0 = cpuSeconds();
const tc = performance.now();
torrent.addPeer(`127.0.0.1:${port}`);
await new Promise((resolve, reject) => {
  torrent.once("done", resolve);
  torrent.once("error", reject);
});
const t1 = performance.now();
const cpu1 = cpuSeconds();
const rss = rssAnonKib();
clearTimeout(timer);
const bytes = torrent.length;
const seconds = (t1 - tPeer) / 1000;
await new Promise((resolve) => client.destroy(resolve));
console.log(JSON.stringify({
  runtime: `node ${process.versions.node} + webtorrent ${WebTorrent.VERSION}`,
  bytes,
  seconds,
  seconds_from_connect_peer: (t1 - tc) / 1000,
  mbps: bytes / 1e6 / seconds,
  cpu_seconds: cpuSeconds(),
  cpu_seconds_transfer: cpu1 - cpu0,
  rss_anon_kib: rss,
  transport: "tcp",
  socket: "TCP",
  connect_wait_seconds: (tPeer - tc) / 1000,
  timing: "first_wire_to_done",
}));
process.exit(0);
