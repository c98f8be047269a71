/**
 * A script whose only pending work is awaiting the engine — a `for await`
 * over `session.events()`, an awaited request such as `saveResumeData()` —
 * stays alive until the event arrives, and exits by itself once its
 * sessions are closed. (Under Bun the wait runs in a Worker that is unref'd
 * while nobody awaits; it used to stay unref'd, and such a script exited
 * with status 0 in the middle of its download.)
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runtimeArgv } from "./_cli.ts";
import { TempDir, TIMEOUT } from "./_helpers.ts";

const MOD = fileURLToPath(new URL("../mod.ts", import.meta.url));

describe("process lifetime", () => {
  test("awaiting events and requests keeps the process alive; closed sessions let it exit", {
    timeout: TIMEOUT.slow,
  }, () => {
    using dir = new TempDir();
    const script = join(dir.path, "child.ts");
    writeFileSync(
      script,
      `
import { writeFileSync, mkdirSync } from "node:fs";
import { createTorrent, Session } from ${JSON.stringify(MOD)};
// No top-level await: like a server or a signal handler, the work runs from
// callbacks, and only the engine's replies are pending.
async function main() {
const root = ${JSON.stringify(dir.path)};
mkdirSync(root + "/data", { recursive: true });
const bytes = new Uint8Array(2 * 1024 * 1024);
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >> 12)) & 255;
writeFileSync(root + "/data/file.bin", bytes);
const made = await createTorrent({ path: root + "/data/file.bin", version: "v1", pieceSize: 65536 });
// A seeder throttled so the download takes a few seconds of pure waiting.
const seeder = await Session.open({
  profile: "isolated",
  settings: { upload_rate_limit: 600_000, ignore_limits_on_local_network: false },
});
await seeder.add({ torrent: made.torrent, savePath: root + "/data" });
const leecher = await Session.open({ profile: "isolated" });
const t = await leecher.add({ torrent: made.torrent, savePath: root + "/out" });
t.connectPeer("127.0.0.1", seeder.listenPort);
console.log("waiting");
for await (const ev of leecher.events()) {
  if (ev.type === "torrent_finished" && ev.torrent === t) break;
}
console.log("finished", t.status().totalDone);
const resume = await t.saveResumeData();
console.log("resume", resume.length > 0);
await leecher.close();
await seeder.close();
console.log("closed");
}
setTimeout(() => void main(), 0);
`,
    );
    const argv = runtimeArgv(script);
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: TIMEOUT.slow - 5_000 });
    const out = r.stdout ?? "";
    assert.equal(r.error, undefined, `the child did not exit by itself: ${r.error}\n${out}\n${r.stderr}`);
    assert.match(out, /waiting/, r.stderr);
    assert.match(out, /finished 2097152/, `the process exited before the download finished:\n${out}\n${r.stderr}`);
    assert.match(out, /resume true/);
    assert.match(out, /closed/);
    assert.equal(r.status, 0, r.stderr);
  });
});
