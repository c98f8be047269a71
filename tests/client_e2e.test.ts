// The flagship web client, end to end in real headless Chromium (Debian's
// `chromium`, driven by playwright-core): the page adds the magnet of a
// torrent seeded by a second local session, the row reaches 100 %, it is
// paused and resumed from the page, and screenshots are saved for review
// (build/screenshots/, or $TORRENTXT_SCREENSHOTS).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createClientApp } from "../examples/client/app.ts";
import { serve } from "../examples/client/serve.ts";
import {
  assertSameTree,
  makeFixture,
  MULTI_FILE_TREE,
  openIsolated,
  openSeeder,
  TempDir,
  THROTTLED_SEEDER,
  TIMEOUT,
} from "./_helpers.ts";

// The page's document, as the functions run in Chromium see it.
declare const document: {
  querySelector(s: string): { textContent: string | null; getAttribute(n: string): string | null } | null;
};

const CHROMIUM = process.env.TORRENTXT_CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = process.env.TORRENTXT_SCREENSHOTS ?? join(import.meta.dirname ?? ".", "..", "build", "screenshots");
const runtime = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" ? "deno" : "bun";

// Chromium stays on this machine: every request that is not to loopback
// goes to a proxy address nothing listens on, and background services are off.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--proxy-server=http://127.0.0.1:9",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-domain-reliability",
  "--disable-client-side-phishing-detection",
];

describe("web client (headless Chromium)", () => {
  test("add a magnet from the page, watch it reach 100 %, pause and resume it", {
    timeout: TIMEOUT.transfer * 2,
    skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`,
  }, async () => {
    const { chromium } = await import("playwright-core");
    using dir = new TempDir();
    const fx = await makeFixture(dir, MULTI_FILE_TREE, { version: "hybrid", pieceSize: 16384 });
    // Throttled, so the page shows the download moving before it completes.
    await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
    await using session = await openIsolated();
    const app = createClientApp(session, { savePath: dir.join("downloads") });
    const server = await serve(app.handler);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(SHOTS, { recursive: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await page.goto(`http://127.0.0.1:${server.port}/`);
      // The magnet names the seeder as a peer (x.pe): nothing else to connect.
      const magnet = `${fx.made.magnet}&x.pe=127.0.0.1:${seeder.listenPort}`;
      await page.fill("#add-input", magnet);
      await page.click("#add-button");
      const id = fx.made.infoHash.v1!;
      const row = page.locator(`tr[data-id="${id}"]`);
      await row.waitFor({ timeout: 10_000 });
      // Moving: some progress, not yet done.
      await page.waitForFunction(
        (id) => {
          const t = document.querySelector(`tr[data-id="${id}"] .pct`)?.textContent ?? "";
          const v = parseFloat(t);
          return v > 0 && v < 100;
        },
        id,
        { timeout: 30_000 },
      );
      await page.screenshot({ path: join(SHOTS, `client-downloading-${runtime}.png`) });
      await page.waitForFunction(
        (id) => document.querySelector(`tr[data-id="${id}"] .pct`)?.textContent?.startsWith("100.0"),
        id,
        { timeout: 60_000 },
      );
      await row.click(); // details pane
      await page.waitForSelector("#details:not([hidden]) #details-body tr");
      await page.screenshot({ path: join(SHOTS, `client-finished-${runtime}.png`) });
      const t = session.torrents()[0];
      assert.equal(t.status().progress, 1);

      await row.locator("button.act-pause").click();
      await page.waitForFunction(
        (id) => document.querySelector(`tr[data-id="${id}"]`)?.getAttribute("data-state") === "paused",
        id,
      );
      assert.equal(t.flags().paused, true, "the engine's torrent is paused");
      await page.screenshot({ path: join(SHOTS, `client-paused-${runtime}.png`) });
      await row.locator("button.act-resume").click();
      await page.waitForFunction(
        (id) => document.querySelector(`tr[data-id="${id}"]`)?.getAttribute("data-state") !== "paused",
        id,
      );
      assert.equal(t.flags().paused, false, "the engine's torrent runs again");

      // The event log on the page came from session.events().
      const log = await page.locator("#log").textContent();
      assert.match(log ?? "", /torrent_finished/);
      assert.deepEqual(errors, [], "no script errors on the page");
    } finally {
      await browser.close();
      await app.close();
      await server.close();
    }
    await session.close();
    assertSameTree(fx.dataDir, join(dir.join("downloads"), fx.name));
  });

  test("the API refuses foreign Host and Origin headers and bad input with codes", async () => {
    await using session = await openIsolated();
    using dir = new TempDir();
    const app = createClientApp(session, { savePath: dir.join("d") });
    try {
      const base = "http://127.0.0.1:1";
      let r = await app.handler(new Request(`${base}/api/torrents`, { headers: { host: "evil.example:80" } }));
      assert.equal(r.status, 403);
      r = await app.handler(
        new Request(`${base}/api/add`, {
          method: "POST",
          headers: { host: "127.0.0.1:1", origin: "http://evil.example" },
          body: "{}",
        }),
      );
      assert.equal(r.status, 403);
      r = await app.handler(
        new Request(`${base}/api/add`, {
          method: "POST",
          headers: { host: "127.0.0.1:1" },
          body: JSON.stringify({ input: "not a magnet" }),
        }),
      );
      assert.equal(r.status, 400);
      assert.equal((await r.json()).error.code, "INVALID_ARGUMENT");
      r = await app.handler(
        new Request(`${base}/api/t/${"0".repeat(40)}/pause`, {
          method: "POST",
          body: "{}",
          headers: { host: "127.0.0.1:1" },
        }),
      );
      assert.equal(r.status, 400);
      r = await app.handler(new Request(`${base}/`, { headers: { host: "localhost:1" } }));
      assert.match(r.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    } finally {
      await app.close();
    }
  });
});
