// The torrentxt CLI, run as a subprocess under the runtime running the test:
// create → info → seed → download over loopback with the bytes compared;
// --json lines; usage and input errors exit 2 with a clear message, engine
// and network errors 1; Ctrl-C mid-download exits 130 with resume data saved
// and a second run resumes without downloading the finished pieces again;
// stream serves the files over HTTP; progress bars on a terminal.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { Buffer } from "node:buffer";
import process from "node:process";
import { join } from "node:path";
import { bdecode } from "../mod.ts";
import { assertSameTree, makeFixture, openSeeder, TempDir, THROTTLED_SEEDER, TIMEOUT, writeTree } from "./_helpers.ts";
import { CLI, cli, ROOT, runCli, runtimeArgv } from "./_cli.ts";

type Json = Record<string, unknown>;

const SMALL_TREE = { "a.bin": 300_001, "sub/b.bin": 70_000, "c.txt": 3 };

describe("torrentxt CLI", () => {
  test("create → info → seed → download (by .torrent with --peer, and by the seeder's magnet) moves the bytes", {
    timeout: TIMEOUT.slow,
  }, async () => {
    using dir = new TempDir();
    const content = dir.join("seed", "content");
    writeTree(content, SMALL_TREE);
    const file = dir.join("content.torrent");

    const made = await cli(["create", content, "-o", file, "--piece-size", "16k", "--json"]);
    assert.equal(made.code, 0, made.stderr);
    const [created] = made.run.json();
    assert.equal(created.type, "created");
    assert.equal(created.file, file);
    assert.equal(created.pieceSize, 16384);
    assert.ok(existsSync(file));
    const ih = created.infoHash as { v1: string; v2: string };
    assert.match(ih.v1, /^[0-9a-f]{40}$/);
    assert.match(ih.v2, /^[0-9a-f]{64}$/, "hybrid by default");

    // Refuses to overwrite without --force.
    const again = await cli(["create", content, "-o", file]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists.*\n.*--force/);

    const shown = await cli(["info", file, "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    const [inf] = shown.run.json();
    assert.equal(inf.type, "info");
    assert.deepEqual(inf.infoHash, ih);
    assert.equal(inf.version, "hybrid");
    assert.equal(inf.totalSize, 370_004);
    assert.equal(inf.pieceSize, 16384);
    assert.deepEqual(
      (inf.files as { path: string; size: number }[]).map((f) => [f.path, f.size]).sort(),
      [["content/a.bin", 300_001], ["content/c.txt", 3], ["content/sub/b.bin", 70_000]],
    );
    const human = await cli(["info", file]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, new RegExp(`info-hash:\\s+${ih.v1} \\(v1\\)`));
    assert.match(human.stdout, /files \(3\):/);

    const seeder = runCli(["seed", file, "--path", dir.join("seed"), "--json"]);
    try {
      const seeding = await seeder.waitJson((o) => o.type === "seeding", "seeding");
      assert.deepEqual(seeding.infoHash, ih);
      const peer = seeding.peer as string;
      assert.match(peer, /^127\.0\.0\.1:\d+$/);

      // By the .torrent file, plain (non-TTY) output.
      const out1 = dir.join("dl1");
      const d1 = await cli(["download", file, "-o", out1, "--peer", peer, "--interval", "0.2"]);
      assert.equal(d1.code, 0, d1.stderr);
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(d1.stdout, /\r|\x1b\[/, "no terminal control codes when stdout is not a TTY");
      assert.match(d1.stdout, /^done: content, 370 kB in /m);
      assertSameTree(content, join(out1, "content"));
      assert.ok(!existsSync(join(out1, `.${ih.v1}.torrentxt-resume`)), "no resume file left after completion");

      // By the magnet the seeder printed (it carries x.pe=<peer>), --json.
      const out2 = dir.join("dl2");
      const d2 = await cli(["download", seeding.magnet as string, "-o", out2, "--json", "--interval", "0.2"]);
      assert.equal(d2.code, 0, d2.stderr);
      const lines = d2.run.json(); // every line parses
      assert.ok(lines.length >= 3);
      const types = lines.map((l) => l.type);
      assert.equal(types[0], "added");
      assert.ok(types.includes("metadata"), `types: ${types}`);
      assert.ok(types.includes("progress"), `types: ${types}`);
      assert.equal(types.at(-1), "finished");
      const fin = lines.at(-1)!;
      assert.equal(fin.totalDone, 370_004);
      assert.equal(fin.progress, 1);
      assert.ok((fin.downloaded as number) >= 370_004, "the bytes came over the wire");
      for (const l of lines.filter((l) => l.type === "progress")) {
        for (const k of ["progress", "downloadRate", "uploadRate", "peers", "totalDone", "totalWanted"]) {
          assert.equal(typeof l[k], "number", `progress.${k}`);
        }
        assert.ok(l.eta === null || typeof l.eta === "number");
      }
      assertSameTree(content, join(out2, "content"));

      // info over HTTP(S) URL input.
      const server = createServer((req, res) => {
        if (req.url === "/content.torrent") res.end(readFileSync(file));
        else res.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const port = (server.address() as AddressInfo).port;
        const byUrl = await cli(["info", `http://127.0.0.1:${port}/content.torrent`, "--json"]);
        assert.equal(byUrl.code, 0, byUrl.stderr);
        assert.deepEqual(byUrl.run.json()[0].infoHash, ih);
        const missing = await cli(["info", `http://127.0.0.1:${port}/nope.torrent`]);
        assert.equal(missing.code, 1, "a failed fetch is a network error");
        assert.match(missing.stderr, /HTTP 404/);
      } finally {
        await new Promise((r) => server.close(r));
      }
    } finally {
      seeder.kill("SIGINT");
      assert.equal(await seeder.exited, 130, `seed exits 130 on Ctrl-C; stderr: ${seeder.stderr}`);
    }
  });

  test(
    "bad arguments and bad input exit 2 with a clear message; no stack traces",
    { timeout: TIMEOUT.slow },
    async () => {
      using dir = new TempDir();
      const bad = dir.join("bad.torrent");
      writeFileSync(bad, "this is not bencode");
      const content = dir.join("c");
      writeTree(content, { "x.bin": 1000 });
      const hash = "0123456789abcdef0123456789abcdef01234567";
      const cases: [string[], RegExp][] = [
        [[], /usage: torrentxt <command>/],
        [["frobnicate"], /unknown command "frobnicate"/],
        [["download"], /download: give a magnet link, \.torrent file, http\(s\) URL or info-hash/],
        [["download", hash, "--bogus"], /unknown option --bogus/],
        [["download", hash, "--peer"], /--peer needs a value/],
        [["download", dir.join("nope.torrent")], /no such file, and not a magnet link/],
        [["download", "magnet:?xt=urn:btih:zz", "-o", dir.join("o")], /invalid magnet.*\[INVALID_MAGNET\]/],
        [["download", bad, "-o", dir.join("o")], /invalid \.torrent.*\[INVALID_TORRENT\]/],
        [["download", hash, "--peer", "10.1.2.3:6881"], /not a loopback address.*\n.*--public/],
        [["download", hash, "--peer", "nonsense"], /--peer: "nonsense" is not host:port/],
        [["download", hash, "--dht-node", "192.0.2.1:6881"], /--dht-node .*not a loopback address/],
        [["download", hash, "--listen", "0.0.0.0:0", "-o", dir.join("o")], /loopback only.*\[INVALID_ARGUMENT\]/],
        [["download", hash, "--interval", "soon"], /--interval: "soon" is not a number of seconds/],
        [["info", bad], /invalid \.torrent.*\[INVALID_TORRENT\]/],
        [["info"], /info: give one/],
        [["create", content, "--v1", "--v2"], /--v1 and --v2 exclude each other/],
        [
          ["create", content, "--piece-size", "1000", "-o", dir.join("x.torrent")],
          /power of two.*\[INVALID_ARGUMENT\]/,
        ],
        [["create", dir.join("missing")], /no such file or directory/],
        [["seed", `magnet:?xt=urn:btih:${hash}`], /a magnet link has no piece hashes/],
        [["stream", hash, "--port", "99999"], /--port: 99999 is out of range/],
      ];
      for (const [args, message] of cases) {
        const r = await cli(args, { cwd: dir.path });
        assert.equal(r.code, 2, `${args.join(" ")}: exit code (stderr: ${r.stderr})`);
        assert.match(r.stderr, message, `${args.join(" ")}: message`);
        assert.doesNotMatch(r.stderr, /^\s+at /m, `${args.join(" ")}: no stack trace`);
        assert.equal(r.stdout, "", `${args.join(" ")}: nothing on stdout`);
      }
      // With --json the error is also a JSON line on stdout.
      const j = await cli(["info", bad, "--json"]);
      assert.equal(j.code, 2);
      assert.deepEqual(
        j.run.json().map((o) => [o.type, o.code, o.exitCode]),
        [["error", "INVALID_TORRENT", 2]],
      );
      // Seeding data that is not there is the user's error too.
      const made = await cli(["create", content, "-o", dir.join("c.torrent")]);
      assert.equal(made.code, 0, made.stderr);
      const wrong = await cli(["seed", dir.join("c.torrent"), "--path", dir.join("elsewhere")]);
      assert.equal(wrong.code, 2, wrong.stderr);
      assert.match(wrong.stderr, /data of "c" under .*elsewhere is incomplete: 0\.0%/);
      // Help is not an error.
      const help = await cli(["download", "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /usage: torrentxt download/);
      assert.match(help.stdout, /--peer <host:port>/);
    },
  );

  test(
    "Ctrl-C mid-download exits 130 with resume data saved; a re-run resumes without re-downloading finished pieces",
    {
      timeout: TIMEOUT.slow,
    },
    async () => {
      using dir = new TempDir();
      const spec = { "big.bin": 1_400_000, "small.txt": 999 };
      const total = 1_400_999;
      const fx = await makeFixture(dir, spec, { version: "hybrid", pieceSize: 16384 });
      const torrentFile = dir.join("f.torrent");
      writeFileSync(torrentFile, fx.made.torrent);
      await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
      const out = dir.join("dl");
      const args = ["download", torrentFile, "-o", out, "--peer", `127.0.0.1:${seeder.listenPort}`, "--json"];

      const first = runCli([...args, "--interval", "0.1"]);
      await first.waitJson(
        (o) => o.type === "progress" && (o.totalDone as number) >= total * 0.25,
        "a quarter of the bytes",
      );
      first.kill("SIGINT");
      assert.equal(await first.exited, 130, `exit code after Ctrl-C (stderr: ${first.stderr})`);
      const stopped = first.json().find((o) => o.type === "interrupted");
      assert.ok(stopped, `an "interrupted" line: ${first.stdout.slice(-500)}`);
      assert.equal(stopped.signal, "SIGINT");
      const saved = stopped.totalDone as number;
      assert.ok(saved >= total * 0.25 && saved < total, `saved at ${saved} of ${total}`);
      const resumeFile = stopped.resumeFile as string;
      assert.equal(resumeFile, join(out, `.${fx.made.infoHash.v1}.torrentxt-resume`));
      const dict = bdecode(new Uint8Array(readFileSync(resumeFile))) as Record<string, unknown>;
      assert.ok(dict.pieces instanceof Uint8Array, "the resume file is libtorrent resume data with a piece map");
      assert.match(first.stderr, /interrupted/);

      const second = runCli([...args, "--interval", "0.5"]);
      assert.equal(await second.exited, 0, second.stderr);
      const lines = second.json();
      assert.equal(lines[0].type, "added");
      assert.equal(lines[0].resumed, true, "the second run starts from the resume file");
      const fin = lines.at(-1)!;
      assert.equal(fin.type, "finished");
      assert.equal(fin.totalDone, total);
      const downloaded = fin.downloaded as number, waste = (fin.redundant as number) + (fin.failed as number);
      const missingPieces = (stopped.pieceCount as number) - (stopped.pieces as number);
      assert.ok(downloaded > 0, "the rest came over the wire");
      assert.ok(
        downloaded <= missingPieces * (stopped.pieceSize as number) + waste,
        `the second run downloaded ${downloaded} bytes; only ${missingPieces} pieces of ${stopped.pieceSize} bytes ` +
          `were missing (${stopped.pieces} of ${stopped.pieceCount} saved; waste ${waste})`,
      );
      assert.ok(downloaded < total, "less than the whole torrent");
      assert.ok(!existsSync(resumeFile), "the resume file is removed once the download is complete");
      assertSameTree(fx.dataDir, join(out, fx.name));
    },
  );

  test("stream serves a file over HTTP while it downloads; Ctrl-C exits 130", { timeout: TIMEOUT.slow }, async () => {
    using dir = new TempDir();
    const fx = await makeFixture(dir, { "movie.mp4": 500_000, "notes.txt": 12 }, { pieceSize: 16384 });
    await using seeder = await openSeeder(fx);
    const run = runCli([
      "stream",
      fx.made.magnet,
      "-o",
      dir.join("dl"),
      "--peer",
      `127.0.0.1:${seeder.listenPort}`,
      "--json",
    ]);
    try {
      const files = await run.waitJson((o) => o.type === "files", "the file list");
      const movie = (files.files as { path: string; url: string; size: number }[]).find((f) =>
        f.path.endsWith("movie.mp4")
      );
      assert.ok(movie, JSON.stringify(files));
      assert.match(movie.url, /^http:\/\/127\.0\.0\.1:\d+\//);
      const res = await fetch(movie.url);
      assert.equal(res.status, 200);
      const body = new Uint8Array(await res.arrayBuffer());
      assert.ok(Buffer.from(body).equals(readFileSync(join(fx.dataDir, "movie.mp4"))), "the streamed bytes");
      const ranged = await fetch(movie.url, { headers: { range: "bytes=-1000" } });
      assert.equal(ranged.status, 206);
      assert.equal((await ranged.arrayBuffer()).byteLength, 1000);
    } finally {
      run.kill("SIGINT");
      assert.equal(await run.exited, 130, run.stderr);
    }
  });

  test(
    "on a terminal, download draws a redrawn progress bar (rate, peers, ETA)",
    { timeout: TIMEOUT.slow },
    async () => {
      using dir = new TempDir();
      const fx = await makeFixture(dir, { "a.bin": 600_000 }, { pieceSize: 16384 });
      await using seeder = await openSeeder(fx, THROTTLED_SEEDER);
      mkdirSync(dir.join("dl"));
      // script(1) (util-linux) gives the CLI a pseudo-terminal for stdout.
      const argv = [
        ...runtimeArgv(CLI),
        "download",
        fx.made.magnet,
        "-o",
        dir.join("dl"),
        "--peer",
        `127.0.0.1:${seeder.listenPort}`,
        "--interval",
        "0.2",
      ];
      const quoted = argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
      const typescript = execFileSync("script", ["-qefc", quoted, "/dev/null"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, COLUMNS: "120" },
        timeout: 80_000,
      });
      // deno-lint-ignore no-control-regex
      assert.match(typescript, /\r\x1b\[K/, "the bar line is redrawn in place");
      assert.match(
        typescript,
        /\[[█░]{10,}\]\s+\d+\.\d%\s+↓ [\d.]+ [kM]?B\/s\s+↑ [\d.]+ [kM]?B\/s\s+\d+ peers\s+ETA [\d:-]+/,
      );
      assert.match(typescript, /done: content, 600 kB in /);
      assertSameTree(fx.dataDir, join(dir.join("dl"), "content"));
    },
  );
});
