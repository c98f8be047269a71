// bittorrent-tracker's server (HTTP + UDP), the independent tracker of
// tests/interop/, run with node. Bound to 127.0.0.1 only. Prints one JSON
// line when listening ({"event":"listening","http":PORT,"udp":PORT}) and one
// per announce it handles ({"event":"start"|"complete"|"update"|"stop",
// "addr":"ip:port","infoHash":HEX,"left":N}); exits when stdin closes.
import process from "node:process";

// Resolved by node at run time from ./node_modules (scripts/setup_interop.sh),
// not by `deno check tests/` (a variable specifier: nothing to resolve).
const pkg = "bittorrent-tracker";
const { Server } = await import(pkg);

const server = new Server({ http: true, udp: true, ws: false, stats: false, trustProxy: false });
const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
server.on("error", (err) => {
  process.stderr.write(`tracker: ${err?.message ?? err}\n`);
  process.exit(1);
});
server.on("warning", (err) => process.stderr.write(`tracker warning: ${err?.message ?? err}\n`));
for (const event of ["start", "complete", "update", "stop"]) {
  server.on(event, (addr, params) => {
    print({ event, addr, infoHash: params?.info_hash ?? "", left: Number(params?.left ?? -1) });
  });
}
server.on("listening", () => {
  print({ event: "listening", http: server.http.address().port, udp: server.udp4.address().port });
});
server.listen({ http: 0, udp: 0 }, { http: "127.0.0.1", udp: "127.0.0.1", udp6: "::1" });
process.stdin.resume();
process.stdin.on("end", () => server.close(() => process.exit(0)));
