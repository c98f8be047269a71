/**
 * Starts the TorrentXT web client on 127.0.0.1:
 *
 *   deno run -A examples/client/main.ts [--port 8080] [--save ./downloads] [--dht-bootstrap 127.0.0.1:6881]
 *   bun examples/client/main.ts [same options]
 *
 * The session uses the isolated profile (127.0.0.1 only, no public DHT,
 * LSD/UPnP/NAT-PMP off); pass --network to use libtorrent's defaults.
 * @module
 */
import { Session } from "../../mod.ts";
import { createClientApp } from "./app.ts";
import { serve } from "./serve.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
if (args.includes("--help")) {
  console.log("usage: main.ts [--port N] [--save DIR] [--dht-bootstrap host:port,...] [--network]");
  process.exit(0);
}
const boot = opt("--dht-bootstrap", "");
const session = await Session.open(
  args.includes("--network")
    ? { profile: "default" }
    : { profile: "isolated", dhtBootstrap: boot ? boot.split(",") : undefined },
);
const app = createClientApp(session, { savePath: opt("--save", "./downloads") });
const server = await serve(app.handler, Number(opt("--port", "0")));
console.log(`TorrentXT client on http://127.0.0.1:${server.port}/ (peers: 127.0.0.1:${session.listenPort})`);
const stop = async () => {
  await app.close();
  await server.close();
  await session.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
