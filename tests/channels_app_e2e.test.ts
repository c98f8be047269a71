// The channels app (examples/channels/), end to end: two app instances,
// each started by its one command (main.ts, in a child process of the
// runtime under test), bootstrap from a private DHT of four isolated
// sessions on 127.0.0.1. In real headless Chromium (Debian's `chromium`,
// driven by playwright-core): A publishes a folder and its card shows the
// address; B follows the address and downloads the release in one click,
// the row reaching 100 %; A publishes a second release, B's feed shows it
// and B downloads it; a quick drop goes from A to B; a bad address is
// refused with a clear error. The downloaded trees are compared byte for
// byte once both apps stopped; B started again finds its channel, what it
// follows and both releases (from their resume data) back. Screenshots go to build/screenshots/ (or
// $TORRENTXT_SCREENSHOTS); reviewed ones are in docs/screenshots/.
// The second part drives the JSON API in process: the key file, the
// Host/Origin checks and bad input answered with TorrentError codes.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Session } from "../mod.ts";
import { createChannelsApp } from "../examples/channels/app.ts";
import { assertSameTree, openIsolated, rejectsCode, TempDir, TIMEOUT, writeTree } from "./_helpers.ts";

// The page's document, as the functions run in Chromium see it.
declare const document: {
  querySelector(s: string): { textContent: string | null; getAttribute(n: string): string | null } | null;
  querySelectorAll(s: string): ArrayLike<{ textContent: string | null; getAttribute(n: string): string | null }>;
};

const ROOT = resolve(import.meta.dirname ?? ".", "..");
const MAIN = join(ROOT, "examples", "channels", "main.ts");
const CHROMIUM = process.env.TORRENTXT_CHROMIUM ?? "/usr/bin/chromium";
// Decodes the page's QR code when present (Debian zbar-tools); the rest of the test runs without it.
const ZBARIMG = "/usr/bin/zbarimg";
const SHOTS = process.env.TORRENTXT_SCREENSHOTS ?? join(ROOT, "build", "screenshots");
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

const ep = (s: Session) => `127.0.0.1:${s.listenPort}`;

/** A running app: main.ts in a child process of this runtime. */
interface RunningApp {
  url: string;
  address: string;
  output: () => string;
  /** SIGTERM, then the exit code (the app saves resume data and closes its session first). */
  stop(): Promise<number | null>;
}

/** Starts examples/channels/main.ts as a user would, on a free port. */
function startApp(dataDir: string, dhtNodes: string[]): Promise<RunningApp> {
  const flags = ["--port", "0", "--data", dataDir, "--poll", "1", ...dhtNodes.flatMap((n) => ["--dht-node", n])];
  const argv = runtime === "deno"
    ? ["run", "-A", "--config", join(ROOT, "deno.json"), MAIN, ...flags]
    : [MAIN, ...flags];
  const proc: ChildProcess = spawn(process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((res) =>
    proc.on("exit", (code) => {
      exited = code;
      res(code);
    })
  );
  proc.stdout!.on("data", (d) => out += String(d));
  proc.stderr!.on("data", (d) => out += String(d));
  return new Promise((res, rej) => {
    const check = setInterval(() => {
      const url = /on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
      const address = /your channel: (\S+)/.exec(out)?.[1];
      if (url && address) {
        clearInterval(check);
        res({
          url,
          address,
          output: () => out,
          stop: () => {
            if (exited === undefined) proc.kill("SIGTERM");
            return exit;
          },
        });
      } else if (exited !== undefined) {
        clearInterval(check);
        rej(new Error(`main.ts exited with ${exited} before it listened:\n${out}`));
      }
    }, 50);
  });
}

describe("channels app (two instances, private DHT, headless Chromium)", () => {
  test("publish, follow, download in one click, a second release, quick drop, a bad address", {
    timeout: TIMEOUT.slow * 2,
    skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`,
  }, async () => {
    const { chromium } = await import("playwright-core");
    using dir = new TempDir("torrentxt-chapp-");
    // The private DHT: four isolated sessions that ping each other.
    const nodes: Session[] = [];
    for (let i = 0; i < 4; i++) nodes.push(await openIsolated());
    await Promise.all(nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => a.dht.ping(ep(b)))));
    const boot = nodes.map(ep);
    writeTree(dir.join("src", "release-1"), { "episode.bin": 300_007, "notes/readme.txt": 1_013 });
    writeTree(dir.join("src", "release-2"), { "episode-2.bin": 200_003 });

    const apps: RunningApp[] = [];
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(SHOTS, { recursive: true });
    let ih1 = "", ih2 = "", b0 = "", a!: RunningApp;
    let codes: (number | null)[] = [];
    try {
      a = await startApp(dir.join("a"), boot);
      apps.push(a);
      const b = await startApp(dir.join("b"), boot);
      apps.push(b);
      b0 = b.address;
      assert.match(a.address, /^magnet:\?xs=urn:btpk:[0-9a-f]{64}$/);
      assert.notEqual(a.address, b.address);
      // The channel's key is kept in the data directory, readable by its owner only.
      assert.equal(statSync(dir.join("a", "channel-key.json")).mode & 0o777, 0o600);

      const errors: string[] = [];
      const open = async (app: RunningApp) => {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        page.on("pageerror", (e) => errors.push(String(e)));
        page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
        await page.goto(`${app.url}/`);
        // Both bootstrap from the private DHT.
        await page.waitForFunction(() => Number(document.querySelector("#dht")?.getAttribute("data-nodes")) > 0, null, {
          timeout: 30_000,
        });
        return page;
      };
      const pa = await open(a);
      const pb = await open(b);
      // A first visit opens the plain-language panel.
      assert.ok(await pa.locator("#about").isVisible(), "'What is this?' is shown to a new user");
      assert.match((await pa.locator("#about").textContent()) ?? "", /channel is like a podcast feed/);
      await pa.screenshot({ path: join(SHOTS, "channels-welcome.png") });
      for (const p of [pa, pb]) {
        await p.click("#about-toggle"); // read: close it
        await p.locator("#about").waitFor({ state: "hidden" });
      }

      // A names the channel (HTML in a name stays text) and publishes a folder.
      const NAME = `Alice's <b>demo</b> & co`;
      await pa.fill("#name-input", NAME);
      await pa.click("#name-save");
      await pa.waitForFunction((n) => document.querySelector("#my-name")?.textContent === n, NAME);
      await pa.fill("#publish-path", dir.join("src", "release-1"));
      await pa.click("#publish-button");
      const rel1 = pa.locator("#my-feed li.release");
      await rel1.first().waitFor({ timeout: 30_000 });
      ih1 = (await rel1.first().getAttribute("data-ih")) ?? "";
      assert.match(ih1, /^[0-9a-f]{40}$/);
      assert.equal(await pa.locator("#my-feed .rel-name").first().textContent(), "release-1");
      const shown = (await pa.locator("#my-address").textContent()) ?? "";
      assert.ok(shown.startsWith(a.address), `the card shows the address: ${shown}`);
      assert.match(shown, /&dn=Alice/, "with the channel's name");
      assert.equal(await pa.locator("#my-name b").count(), 0, "no element made of the name");
      // The card's QR code carries the same address (drawn by the page's own encoder, static/qr.js).
      assert.equal(await pa.locator("#qr").getAttribute("data-text"), shown);
      if (existsSync(ZBARIMG)) {
        const png = join(SHOTS, "channels-qr.png");
        await pa.locator("#qr svg").screenshot({ path: png });
        const decoded = execFileSync(ZBARIMG, ["-q", "--raw", png], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        }).trim();
        assert.equal(decoded, shown, "the QR code decodes to the address");
      } else console.log(`# no ${ZBARIMG} (apt-get install zbar-tools): the QR code is not decoded`);
      await pa.locator(`#transfers tr[data-id="${ih1}"]`).waitFor();
      await pa.screenshot({ path: join(SHOTS, "channels-publisher.png") });

      // B: a bad address is refused with a clear error.
      await pb.fill("#follow-input", `magnet:?xt=urn:btih:${ih1}`);
      await pb.click("#follow-button");
      await pb.waitForFunction(() => document.querySelector("#notice.error")?.textContent?.includes("INVALID_CHANNEL"));
      assert.match((await pb.locator("#notice").textContent()) ?? "", /not a channel address/);
      // …also under the form itself, in plain words, with the code.
      const why = (await pb.locator("#follow-error:not([hidden])").textContent()) ?? "";
      assert.match(why, /That is not a channel address.*INVALID_CHANNEL_ADDRESS: .*torrent magnet/);
      assert.equal(await pb.locator(".channel").count(), 0);
      await pb.screenshot({ path: join(SHOTS, "channels-bad-address.png") });

      // B follows A's address (as the card shows it) and downloads the release in one click.
      await pb.fill("#follow-input", shown);
      await pb.click("#follow-button");
      await pb.locator("#follow-error").waitFor({ state: "hidden" });
      const card = pb.locator(`.channel[data-address="${a.address}"]`);
      await card.waitFor({ timeout: 10_000 });
      assert.equal(await card.locator(".channel-name").textContent(), NAME, "the name as text");
      assert.equal(await card.locator(".channel-name b").count(), 0);
      const r1 = card.locator(`li.release[data-ih="${ih1}"]`);
      await r1.waitFor({ timeout: 30_000 });
      assert.equal(await r1.locator(".rel-name").textContent(), "release-1");
      await r1.locator("button.download").click();
      await pb.waitForFunction(
        (id) => document.querySelector(`#transfers tr[data-id="${id}"] .pct`)?.textContent?.startsWith("100.0"),
        ih1,
        { timeout: 60_000 },
      );
      await card.locator(`li.release[data-ih="${ih1}"][data-have="done"]`).waitFor();
      await pb.screenshot({ path: join(SHOTS, "channels-follower.png") });

      // A publishes a second release; B's feed shows it (signed feed: both, newest first) and B downloads it.
      await pa.fill("#publish-path", dir.join("src", "release-2"));
      await pa.fill("#publish-name", "Episode 2 <i>final</i>");
      await pa.click("#publish-button");
      await pa.waitForFunction(() => document.querySelectorAll("#my-feed li.release").length === 2, null, {
        timeout: 30_000,
      });
      ih2 = (await pa.locator("#my-feed li.release").first().getAttribute("data-ih")) ?? "";
      assert.match(ih2, /^[0-9a-f]{40}$/);
      assert.notEqual(ih2, ih1);
      const r2 = card.locator(`li.release[data-ih="${ih2}"]`);
      await r2.waitFor({ timeout: 30_000 });
      assert.deepEqual(
        await card.locator("li.release").evaluateAll((els) => els.map((e) => e.getAttribute("data-ih"))),
        [ih2, ih1],
        "B's feed: the second release on top",
      );
      assert.equal(await r2.locator(".rel-name").textContent(), "Episode 2 <i>final</i>");
      assert.equal(await r2.locator(".badge").textContent(), "latest");
      await r2.locator("button.download").click();
      await pb.waitForFunction(
        (id) => document.querySelector(`#transfers tr[data-id="${id}"] .pct`)?.textContent?.startsWith("100.0"),
        ih2,
        { timeout: 60_000 },
      );

      // Quick drop, A → B.
      const NOTE = "meet at 8 <script>alert(1)</script> — ✓";
      await pa.fill("#drop-text", NOTE);
      await pa.click("#drop-button");
      await pa.locator("#drop-result:not([hidden])").waitFor({ timeout: 30_000 });
      const code = (await pa.locator("#drop-code").textContent()) ?? "";
      assert.match(code, /^[0-9a-f]{40}$/);
      await pb.fill("#pickup-code", code);
      await pb.click("#pickup-button");
      await pb.locator("#pickup-text:not([hidden])").waitFor({ timeout: 30_000 });
      assert.equal(await pb.locator("#pickup-text").textContent(), NOTE);
      assert.equal(await pb.locator("#pickup-text script").count(), 0);
      await pb.screenshot({ path: join(SHOTS, "channels-second-release-and-drop.png"), fullPage: true });
      await pa.screenshot({ path: join(SHOTS, "channels-publisher-seeding.png"), fullPage: true });
      // The one failed request the console reports is the refused bad address.
      assert.deepEqual(
        errors,
        ["Failed to load resource: the server responded with a status of 400 (Bad Request)"],
        "no script errors on the pages",
      );
    } finally {
      // Stopped with the pages still open: their live streams must not hold the servers up.
      codes = await Promise.all(apps.map((x) => x.stop()));
      await browser.close();
      await Promise.all(nodes.map((n) => n.close()));
    }
    // A clean stop: the app says so after its session closed. (Deno's child_process reports a child that exits
    // by itself after a SIGTERM as killed by the signal: code null.)
    for (const [i, c] of codes.entries()) {
      assert.ok(c === 0 || (c === null && runtime === "deno"), `app ${i} exit code ${c}:\n${apps[i].output()}`);
      assert.match(apps[i].output(), /stopped \(resume data saved\)/, `app ${i} stopped cleanly`);
    }
    // The bytes on B's disk, once B closed its session.
    const pk = /btpk:([0-9a-f]{64})/.exec(a.address)![1];
    const got = dir.join("b", "downloads", pk.slice(0, 12));
    assertSameTree(dir.join("src", "release-1"), join(got, "release-1"));
    assertSameTree(dir.join("src", "release-2"), join(got, "release-2"));
    // What B followed and downloaded is kept for the next run.
    const state = JSON.parse(readFileSync(dir.join("b", "state.json"), "utf8"));
    assert.deepEqual(state.following.map((f: { address: string }) => f.address), [a.address]);
    assert.ok(existsSync(dir.join("b", "torrents", `${ih1}.resume`)), "resume data of the download");
    assert.ok(existsSync(dir.join("a", "torrents", `${ih2}.resume`)), "resume data of what A seeds");

    // B started again over its data directory: the same channel, still following A, both releases back from
    // their resume data, complete (read from B's live update stream).
    const again = await startApp(dir.join("b"), []);
    try {
      assert.equal(again.address, b0);
      const r = await fetch(`${again.url}/api/stream`);
      const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "", restored: { following: { address: string }[]; transfers: { id: string; progress: number }[] };
      for (;;) {
        const { value, done } = await reader.read();
        assert.ok(!done, "the stream ended before both releases were back");
        buf += value;
        const events = buf.split("\n\n");
        buf = events.pop()!;
        const last = events.map((e) => /^event: state\ndata: (.*)$/s.exec(e)?.[1]).filter(Boolean).at(-1);
        if (!last) continue;
        restored = JSON.parse(last);
        const done2 = [ih1, ih2].every((ih) => restored.transfers.some((t) => t.id === ih && t.progress === 1));
        if (done2) break;
      }
      await reader.cancel();
      assert.deepEqual(restored.following.map((f) => f.address), [a.address]);
    } finally {
      await again.stop();
    }
  });
});

describe("channels app API (in process)", () => {
  test("the key persists (0600), foreign Host/Origin are refused, bad input gets 4xx with its code", {
    timeout: TIMEOUT.quick,
  }, async () => {
    using dir = new TempDir("torrentxt-chapp-api-");
    await using session = await openIsolated();
    const dataDir = dir.join("data");
    let app = await createChannelsApp(session, { dataDir });
    const address = app.address;
    assert.match(address, /^magnet:\?xs=urn:btpk:[0-9a-f]{64}$/);
    const keyFile = join(dataDir, "channel-key.json");
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const base = "http://127.0.0.1:1";
    const call = async (path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const r = await app.handler(
        new Request(`${base}${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: {
            host: "127.0.0.1:1",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...headers,
          },
          body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
        }),
      );
      const text = await r.text();
      return { status: r.status, headers: r.headers, json: text ? JSON.parse(text) : null };
    };
    const refused = async (path: string, body: unknown, status: number, code: string) => {
      const r = await call(path, body);
      assert.equal(r.status, status, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, code, `${path} ${JSON.stringify(body)}`);
      assert.ok(r.json.error.message.length > 0);
    };
    try {
      // Host (DNS rebinding) and Origin (cross-site POSTs).
      let r = await call("/api/state", undefined, { host: "evil.example:80" });
      assert.equal(r.status, 403);
      r = await call("/api/name", { name: "x" }, { origin: "http://evil.example" });
      assert.equal(r.status, 403);
      r = await call("/api/name", { name: "x" }, { "content-type": "text/plain" });
      assert.equal(r.status, 400, "a POST that a form could send is not taken");
      // The page, under a strict CSP.
      const page = await app.handler(new Request(`${base}/`, { headers: { host: "localhost:1" } }));
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'; script-src 'self'/);
      await page.body?.cancel();

      await refused("/api/follow", { address: "hello" }, 400, "INVALID_CHANNEL_ADDRESS");
      await refused(
        "/api/follow",
        { address: `magnet:?xs=urn:btpk:${"ab".repeat(31)}` },
        400,
        "INVALID_CHANNEL_ADDRESS",
      );
      await refused("/api/follow", {}, 400, "INVALID_ARGUMENT");
      await refused("/api/follow", { address }, 400, "INVALID_ARGUMENT"); // your own channel
      await refused("/api/publish", { path: dir.join("nothing-here") }, 400, "PATH_NOT_FOUND");
      await refused("/api/publish", { path: 42 }, 400, "INVALID_ARGUMENT");
      await refused("/api/pickup", { code: "not-a-code" }, 400, "INVALID_ARGUMENT");
      await refused("/api/drop", { text: "" }, 400, "INVALID_ARGUMENT");
      await refused("/api/drop", { text: "x".repeat(2000) }, 400, "INVALID_ARGUMENT");
      await refused(
        "/api/download",
        { address: `magnet:?xs=urn:btpk:${"ab".repeat(32)}`, infoHash: "a".repeat(40) },
        400,
        "INVALID_ARGUMENT",
      );
      await refused("/api/download", { address: address, infoHash: "xyz" }, 400, "INVALID_ARGUMENT");
      await refused("/api/name", { name: "n".repeat(65) }, 400, "INVALID_ARGUMENT");
      await refused("/api/name", "{not json", 400, "INVALID_ARGUMENT");
      await refused("/api/name", "[1]", 400, "INVALID_ARGUMENT");
      await refused("/api/nothing", {}, 404, "NOT_FOUND");

      // Follow (twice: the same channel) and unfollow an address nobody published to yet.
      const other = `magnet:?xs=urn:btpk:${"cd".repeat(32)}`;
      for (let i = 0; i < 2; i++) {
        r = await call("/api/follow", { address: `${other}&dn=Someone` });
        assert.equal(r.status, 200);
        assert.equal(r.json.address, other);
      }
      r = await call("/api/state");
      assert.deepEqual(
        r.json.following.map((f: { address: string; name: string; feed: unknown[] }) => [f.address, f.name, f.feed]),
        [[other, "Someone", []]],
      );
      r = await call("/api/unfollow", { address: other });
      assert.equal(r.status, 200);
      assert.deepEqual((await call("/api/state")).json.following, []);
      await refused("/api/unfollow", { address: other }, 400, "INVALID_ARGUMENT");

      r = await call("/api/name", { name: "Bob" });
      assert.equal(r.status, 200);
      assert.equal(r.json.address, `${address}&dn=Bob`);
    } finally {
      await app.close();
    }
    // The same data directory gives the same channel back (and its name).
    app = await createChannelsApp(session, { dataDir });
    assert.equal(app.address, `${address}&dn=Bob`);
    await app.close();
    // A key file others can read is tightened to 0600; a damaged one is refused.
    const { chmodSync } = await import("node:fs");
    chmodSync(keyFile, 0o644);
    app = await createChannelsApp(session, { dataDir });
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    await app.close();
    writeFileSync(keyFile, "{}");
    await rejectsCode(() => createChannelsApp(session, { dataDir }), "INVALID_ARGUMENT");
  });
});
