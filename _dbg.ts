import { Session } from "./mod.ts";
import { blocklist } from "./plugins/blocklist/mod.ts";
const s = await Session.open({ profile: "isolated" });
for (const src of ["/tmp", "http://127.0.0.1:1/list", new Uint8Array(64)]) {
  const t = Date.now();
  try { await s.use(blocklist({ sources: [src as never] })); console.log("no error?"); } catch (e) { console.log(String(src).slice(0,30), (e as {code:string}).code, (e as Error).message, Date.now() - t); }
}
await s.close();
