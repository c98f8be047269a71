// A WebTorrent peer for tests/interop/, run with node:
//
//   node webtorrent_peer.mjs '<json options>'
//
// Options: { mode: "seed" | "download", utp: boolean, secure: 0 | 1 | 2,
//   create?: PATH (seed: make the torrent with WebTorrent's create-torrent),
//   torrentOut?: FILE (seed + create: where to write the .torrent made),
//   torrentFile?: FILE (the .torrent to seed or download), savePath: DIR,
//   announce: [URL...] (local trackers only), peers: ["127.0.0.1:PORT"...],
//   pieceLength?: N }
//
// Prints JSON lines on stdout: {"event":"listening","port":P}, then
// {"event":"seeding","infoHash":H} (seed) or {"event":"done","infoHash":H}
// (download: every piece verified, written and the client destroyed), and
// {"event":"wire","type":"tcpOutgoing"|"utpIncoming"|…,"addr":A,
// "encryption":0|1|2} per peer connection (0: no MSE handshake; 1: MSE
// with plaintext payload; 2: RC4). Exits when stdin closes.
//
// Kept on loopback: no DHT, no LSD, no ut_pex, no UPnP / NAT-PMP, no WebRTC
// (not installed, see package.json), no web seeds, only the trackers given,
// and every TCP and uTP socket WebTorrent listens on is bound to 127.0.0.1
// (WebTorrent has no host option; listen() is wrapped below).
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { createRequire } from "node:module";
import process from "node:process";

const opts = JSON.parse(process.argv[2] ?? "{}");
const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const fail = (msg) => {
  process.stderr.write(`webtorrent peer: ${msg}\n`);
  process.exit(1);
};

// listen(port[, cb]) → listen(port, "127.0.0.1"[, cb]) for TCP and uTP.
const tcpListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && (args.length === 1 || typeof args[1] === "function")) {
    args.splice(1, 0, "127.0.0.1");
  }
  return tcpListen.apply(this, args);
};
const UTP = createRequire(import.meta.url)("utp-native");
const utpListen = UTP.prototype.listen;
UTP.prototype.listen = function (port, host, cb) {
  if (typeof host === "function") [host, cb] = [undefined, host];
  return utpListen.call(this, port, host ?? "127.0.0.1", cb);
};

// Resolved by node at run time from ./node_modules (scripts/setup_interop.sh),
// not by `deno check tests/` (a variable specifier: nothing to resolve).
const pkg = "webtorrent";
const { default: WebTorrent } = await import(pkg);
const announce = opts.announce ?? [];
const client = new WebTorrent({
  dht: false,
  lsd: false,
  utPex: false,
  natUpnp: false,
  natPmp: false,
  webSeeds: false,
  tracker: announce.length > 0 ? {} : false,
  utp: Boolean(opts.utp),
  secure: opts.secure ?? 0,
});
if (Boolean(opts.utp) !== client.utp) fail(`uTP asked ${Boolean(opts.utp)}, WebTorrent has ${client.utp}`);
client.on("error", (err) => fail(err?.message ?? String(err)));
await new Promise((resolve) => (client.listening ? resolve() : client.once("listening", resolve)));
print({ event: "listening", port: client.torrentPort, version: WebTorrent.VERSION });

const onTorrent = (torrent) => {
  // encryption: 0 no MSE handshake; else the MSE method chosen (1 plaintext, 2 RC4).
  torrent.on("wire", (wire, addr) => {
    const encryption = wire._cryptoHandshakeDone ? wire._encryptionMethod : 0;
    print({ event: "wire", type: wire.type, addr, encryption });
  });
  torrent.on("error", (err) => fail(err?.message ?? String(err)));
  torrent.on("warning", (err) => process.stderr.write(`webtorrent warning: ${err?.message ?? err}\n`));
};

let torrent;
if (opts.mode === "seed" && opts.create) {
  torrent = await new Promise((resolve) => {
    const t = client.seed(opts.create, {
      announceList: announce.map((u) => [u]), // not WebTorrent's default public trackers
      announce,
      pieceLength: opts.pieceLength,
      createdBy: `WebTorrent/${WebTorrent.VERSION}`,
      private: false,
    }, resolve);
    onTorrent(t);
  });
  if (opts.torrentOut) writeFileSync(opts.torrentOut, torrent.torrentFile);
} else {
  if (!opts.torrentFile) fail("give create or torrentFile");
  torrent = client.add(readFileSync(opts.torrentFile), { path: opts.savePath, announce });
  onTorrent(torrent);
  await new Promise((resolve) => torrent.once("ready", resolve));
  if (opts.mode === "seed") await new Promise((resolve) => (torrent.done ? resolve() : torrent.once("done", resolve)));
}
for (const p of opts.peers ?? []) torrent.addPeer(p);
if (opts.mode === "seed") {
  if (!torrent.done) fail("the seed is not complete");
  print({ event: "seeding", infoHash: torrent.infoHash });
} else {
  await new Promise((resolve) => (torrent.done ? resolve() : torrent.once("done", resolve)));
  const infoHash = torrent.infoHash;
  // Destroying the client closes the files: every byte is on disk after it.
  await new Promise((resolve) => client.destroy(resolve));
  print({ event: "done", infoHash });
}
process.stdin.resume();
process.stdin.on("end", () => client.destroyed ? process.exit(0) : client.destroy(() => process.exit(0)));
