/**
 * Starts the TorrentXT channels app on 127.0.0.1:
 *
 *   deno run -A --config deno.json examples/channels/main.ts [--port 8090] [--data ./channels-data]
 *       [--dht-node 127.0.0.1:6881 ...] [--profile isolated|default] [--poll 60]
 *   bun examples/channels/main.ts [same options]
 *
 * --profile isolated (the default) keeps everything on 127.0.0.1 (no public
 * DHT, LSD/UPnP/NAT-PMP off): give it the DHT nodes of your private swarm
 * with --dht-node. --profile default joins the public DHT.
 * @module
 */
import { join } from "node:path";
import { Session } from "../../mod.ts";
import { serve } from "../client/serve.ts";
import { createChannelsApp } from "./app.ts";

const USAGE =
  `usage: main.ts [--port N] [--data DIR] [--dht-node host:port]... [--profile isolated|default] [--poll SECONDS]

  --port N          port on 127.0.0.1 (default 8090; 0: any free port)
  --data DIR        key, state, resume data and downloads (default ./channels-data)
  --dht-node H:P    a DHT node to bootstrap from (repeat, or comma-separated)
  --profile P       isolated (default: loopback only) or default (the public DHT)
  --poll SECONDS    how often followed channels are looked up (default 60)`;

const args = process.argv.slice(2);
const values = (name: string) => {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name && i + 1 < args.length) out.push(args[++i]);
    else if (args[i].startsWith(`${name}=`)) out.push(args[i].slice(name.length + 1));
  }
  return out;
};
const opt = (name: string, def: string) => values(name).at(-1) ?? def;
const die = (msg: string): never => {
  console.error(`${msg}\n\n${USAGE}`);
  process.exit(2);
};

if (args.includes("--help") || args.includes("-h")) {
  console.log(USAGE);
  process.exit(0);
}
const known = new Set(["--port", "--data", "--dht-node", "--profile", "--poll"]);
for (let i = 0; i < args.length; i++) {
  const name = args[i].split("=")[0];
  if (!known.has(name)) die(`unknown option ${args[i]}`);
  if (!args[i].includes("=")) i++;
}
const port = Number(opt("--port", "8090"));
if (!Number.isInteger(port) || port < 0 || port > 65535) die("--port takes 0..65535");
const profile = opt("--profile", "isolated");
if (profile !== "isolated" && profile !== "default") die("--profile is isolated or default");
const poll = Number(opt("--poll", "60"));
if (!(poll >= 0.1 && poll <= 86400)) die("--poll takes 0.1..86400 seconds");
const nodes = values("--dht-node").flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean);
const dataDir = opt("--data", join(process.cwd(), "channels-data"));

const session = await Session.open({
  profile: profile as "isolated" | "default",
  ...(nodes.length ? { dhtBootstrap: nodes } : {}),
});
// A node given to bootstrap from is only a "router" to libtorrent (used to
// start lookups); a ping that is answered puts it in the routing table too.
for (const n of nodes) session.dht.ping(n, { timeoutMs: 10_000 }).catch(() => {});
const app = await createChannelsApp(session, { dataDir, pollIntervalMs: Math.round(poll * 1000) });
const server = await serve(app.handler, port);
console.log(`TorrentXT channels on http://127.0.0.1:${server.port}/`);
console.log(`your channel: ${app.address}`);
console.log(`data: ${dataDir} (peers: 127.0.0.1:${session.listenPort})`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // Keeps the process alive until the session closed: on Bun the session's
  // event waiter does not (an idle session must not), so once the server
  // stopped, nothing else would and the process could end mid-close.
  const alive = setInterval(() => {}, 1000);
  await app.close();
  await server.close();
  // Resume data of what was seeding or downloading, so a restart carries on.
  await session.close({ saveResumeData: app.saveResumeData });
  // Flushed before exiting (a pipe's buffered output would be lost).
  await new Promise((done) => process.stdout.write("stopped (resume data saved)\n", () => done(null)));
  clearInterval(alive);
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
