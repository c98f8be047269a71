// Distribution: versions agree; `npm pack` → `bun add` of the tarball into a
// fresh Bun project outside the repository (offline: a dead registry, zod
// from a local tarball) that imports the package and completes a loopback
// transfer on the bundled native library; `bun build --compile` and `deno
// compile` make one `torrentxt` executable carrying the native bundle, run
// with the system's libtorrent hidden (a private mount namespace masks the
// library files) for a create → seed → download transfer over loopback.
//
// Needs the native bundle (scripts/bundle.sh, run here when missing or older
// than the native build) and the Bun binary of node_modules (the consumer
// project is a Bun project, whichever runtime runs this file).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { PACKAGE_VERSION } from "../ffi/loader.ts";
import { assertSameTree, TempDir, writeTree } from "./_helpers.ts";
import { CLI, CliRun, ROOT } from "./_cli.ts";

const BUN = join(ROOT, "node_modules", ".bin", "bun");
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const BUNDLE = join(ROOT, "dist", "native", "linux-x64");
const DEAD_REGISTRY = "http://127.0.0.1:9/"; // nothing listens there: proves the install needs no registry

/** Makes sure dist/native/linux-x64 holds a bundle of the current native build. */
function ensureBundle(): void {
  const lib = join(BUNDLE, "libtorrentxt.so");
  const built = join(ROOT, "native", "build", "libtorrentxt.so");
  const fresh = existsSync(lib) && (!existsSync(built) || statSync(lib).mtimeMs >= statSync(built).mtimeMs);
  if (fresh) return;
  const r = spawnSync("bash", [join(ROOT, "scripts", "bundle.sh")], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, `scripts/bundle.sh failed:\n${r.stderr}`);
}

/** The system's copies of the bundled libraries (what a machine without libtorrent lacks). */
function systemCopies(): string[] {
  const out = new Set<string>();
  for (const name of readdirSync(BUNDLE).filter((n) => /\.so/.test(n) && n !== "libtorrentxt.so")) {
    for (
      const d of ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"]
    ) {
      if (existsSync(join(d, name))) out.add(realpathSync(join(d, name)));
    }
  }
  return [...out];
}

const canUnshare = spawnSync("unshare", ["-m", "true"]).status === 0;

/** argv that runs `argv` in a private mount namespace with `hide` masked by /dev/null (and checks they are). */
function hidden(hide: string[], argv: string[]): string[] {
  const script = "n=$1; shift; i=0; while [ $i -lt $n ]; do f=$1; shift; i=$((i+1)); " +
    'mount --bind /dev/null "$f" || exit 99; [ -s "$f" ] && exit 98; done; exec "$@"';
  return ["unshare", "-m", "sh", "-c", script, "sh", String(hide.length), ...hide, ...argv];
}

/**
 * With the system's libtorrent hidden: `exe` creates a torrent, seeds it and
 * downloads it over loopback, byte for byte, loading the native library from
 * its embedded bundle extracted into a fresh cache directory.
 */
async function compiledTransfer(exe: string, dir: TempDir): Promise<void> {
  const hide = systemCopies();
  assert.ok(hide.some((p) => p.includes("libtorrent-rasterbar")), `no system libtorrent to hide: ${hide}`);
  const cache = dir.join("cache");
  const env = { TORRENTXT_CACHE_DIR: cache, TORRENTXT_LIB: undefined };
  const run = (args: string[]) => new CliRun(hidden(hide, [exe, ...args]), { cwd: dir.path, env });
  const finish = async (r: CliRun, what: string) => {
    const code = await r.exited;
    assert.equal(code, 0, `${what}: exit ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  };

  const v = await finish(run(["--version"]), "--version");
  const extracted = join(cache, PACKAGE_VERSION, "linux-x64");
  assert.match(v.stdout, new RegExp(`native library: ${extracted}/libtorrentxt\\.so`));
  for (const name of readdirSync(BUNDLE).filter((n) => /\.so/.test(n))) {
    assert.ok(
      readFileSync(join(extracted, name)).equals(readFileSync(join(BUNDLE, name))),
      `${name} extracted byte for byte`,
    );
  }

  const content = dir.join("seed", "content");
  writeTree(content, { "a.bin": 250_001, "b/c.bin": 40_000 });
  await finish(run(["create", content, "-o", dir.join("c.torrent"), "--piece-size", "16k"]), "create");
  const seeder = run(["seed", dir.join("c.torrent"), "--path", dir.join("seed"), "--json"]);
  try {
    const seeding = await seeder.waitJson((o) => o.type === "seeding", "seeding");
    await finish(
      run(["download", dir.join("c.torrent"), "-o", dir.join("dl"), "--peer", seeding.peer as string]),
      "download",
    );
    assertSameTree(content, dir.join("dl", "content"));
  } finally {
    seeder.kill("SIGINT");
    assert.equal(await seeder.exited, 130, seeder.stderr);
  }
}

/** Where `deno compile` finds its runtime (denort) without a download, or undefined. */
function denortAvailable(): string | undefined {
  const env = process.env.DENORT_BIN;
  if (env && existsSync(env)) return env;
  const denoDir = process.env.DENO_DIR ?? join(homedir(), ".cache", "deno");
  const version = execFileSync(DENO, ["--version"], { encoding: "utf8" }).match(/deno (\S+)/)?.[1];
  const zip = join(denoDir, "dl", "release", `v${version}`, "denort-x86_64-unknown-linux-gnu.zip");
  return existsSync(zip) ? zip : undefined;
}

describe("distribution", () => {
  test("deno.json, package.json and the loader agree on the version; package.json has exports, types and bin", () => {
    const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    assert.equal(deno.version, PACKAGE_VERSION);
    assert.equal(pkg.version, PACKAGE_VERSION);
    assert.equal(pkg.bin.torrentxt, "cli/main.ts");
    assert.ok(readFileSync(CLI, "utf8").startsWith("#!/usr/bin/env bun\n"), "the bin has a shebang");
    for (const [sub, target] of Object.entries(deno.exports as Record<string, string>)) {
      assert.equal(pkg.exports[sub]?.default, target, `package.json exports ${sub} like deno.json`);
      assert.equal(pkg.exports[sub]?.types, target);
      assert.ok(existsSync(join(ROOT, target)), target);
    }
  });

  test("deno publish --dry-run is clean (offline) and deno doc --lint reports nothing", { timeout: 120_000 }, () => {
    const env = { ...process.env, NO_COLOR: "1" };
    const pub = spawnSync(DENO, ["publish", "--dry-run", "--allow-dirty"], { cwd: ROOT, env, encoding: "utf8" });
    const out = pub.stdout + pub.stderr;
    assert.equal(pub.status, 0, out);
    assert.match(out, /Success Dry run complete/);
    assert.doesNotMatch(out, /^\s*(warning|error)(\[|:)/im, out);
    for (const f of ["mod.ts", "cli/main.ts", "plugins/http/mod.ts", "ffi/loader.ts"]) {
      assert.ok(out.includes(`/${f} (`), `${f} is published`);
    }
    assert.ok(!/\/(tests|native|bench|examples|dist)\//.test(out), "no tests, native sources, benchmarks or bundles");
    const mods = ["mod.ts", "cli/main.ts", ...readdirSync(join(ROOT, "plugins")).map((p) => `plugins/${p}/mod.ts`)];
    const doc = spawnSync(DENO, ["doc", "--lint", ...mods], { cwd: ROOT, env, encoding: "utf8" });
    assert.equal(doc.status, 0, doc.stdout + doc.stderr);
    assert.doesNotMatch(doc.stdout + doc.stderr, /^\s*(warning|error)(\[|:)/im);
  });

  test(
    "npm pack, then bun add of the tarball into a fresh Bun project (offline) that imports it and transfers over loopback",
    {
      timeout: 120_000,
    },
    () => {
      ensureBundle();
      using dir = new TempDir("torrentxt-dist-");
      const packed = JSON.parse(
        execFileSync("npm", ["pack", ROOT, "--pack-destination", dir.path, "--json"], {
          encoding: "utf8",
          stdio: "pipe",
        }),
      )[0] as { filename: string; files: { path: string }[] };
      const files = packed.files.map((f) => f.path);
      for (const f of ["mod.ts", "cli/main.ts", "plugins/http/mod.ts", "dist/native/linux-x64/libtorrentxt.so"]) {
        assert.ok(files.includes(f), `the tarball holds ${f}`);
      }
      assert.ok(!files.some((f) => f.startsWith("tests/") || f.startsWith("native/")), "no tests or native sources");
      // zod comes from a local tarball of the copy installed here, so no registry is needed.
      const zodDir = join(ROOT, "node_modules", "zod");
      const zodVersion = JSON.parse(readFileSync(join(zodDir, "package.json"), "utf8")).version;
      execFileSync("npm", ["pack", zodDir, "--pack-destination", dir.path], { encoding: "utf8", stdio: "pipe" });

      const app = dir.join("app");
      mkdirSync(app);
      writeFileSync(
        join(app, "package.json"),
        JSON.stringify({
          name: "consumer",
          private: true,
          type: "module",
          overrides: { zod: `file:../zod-${zodVersion}.tgz` },
        }),
      );
      const env = {
        ...process.env,
        BUN_CONFIG_REGISTRY: DEAD_REGISTRY,
        NPM_CONFIG_REGISTRY: DEAD_REGISTRY,
        BUN_INSTALL_CACHE_DIR: dir.join("bun-cache"),
        PATH: `${dirname(BUN)}:${process.env.PATH}`, // the bin's "#!/usr/bin/env bun"
        TORRENTXT_LIB: "",
      };
      const add = spawnSync(BUN, ["add", join(dir.path, packed.filename)], { cwd: app, env, encoding: "utf8" });
      assert.equal(add.status, 0, `bun add failed:\n${add.stdout}\n${add.stderr}`);
      assert.ok(existsSync(join(app, "node_modules", "torrentxt", "dist", "native", "linux-x64", "libtorrentxt.so")));

      writeFileSync(
        join(app, "main.ts"),
        `import { createTorrent, Session } from "torrentxt";
import { httpServer } from "torrentxt/plugins/http";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
const root = process.argv[2];
mkdirSync(root + "/seed/share", { recursive: true });
const data = new Uint8Array(200_003).map((_, i) => (i * 7) ^ (i >> 9));
writeFileSync(root + "/seed/share/data.bin", data);
const made = await createTorrent({ path: root + "/seed/share", pieceSize: 16384 });
await using seeder = await Session.open({ profile: "isolated" });
const s = await seeder.add({ torrent: made.torrent, savePath: root + "/seed" });
for await (const ev of seeder.events({ types: ["torrent_checked"] })) if (ev.torrent === s) break;
const leecher = await Session.open({ profile: "isolated" });
const t = await leecher.add({ magnet: made.magnet, savePath: root + "/dl" });
t.connectPeer("127.0.0.1", seeder.listenPort);
for await (const ev of leecher.events({ types: ["torrent_finished"] })) if (ev.torrent === t) break;
await leecher.close();
const got = readFileSync(root + "/dl/share/data.bin");
const lib = readFileSync("/proc/self/maps", "utf8").split("\\n").find((l) => l.includes("libtorrentxt"))?.split(/\\s+/).pop();
console.log(JSON.stringify({ same: got.equals(data), bytes: got.length, lib, plugin: typeof httpServer }));
`,
      );
      const ran = spawnSync(BUN, ["main.ts", dir.join("run")], { cwd: app, env, encoding: "utf8", timeout: 60_000 });
      assert.equal(ran.status, 0, `the consumer failed:\n${ran.stdout}\n${ran.stderr}`);
      const result = JSON.parse(ran.stdout.trim().split("\n").at(-1)!);
      assert.deepEqual(result, {
        same: true,
        bytes: 200_003,
        lib: join(realpathSync(app), "node_modules", "torrentxt", "dist", "native", "linux-x64", "libtorrentxt.so"),
        plugin: "function",
      });
      // The bin works from the project.
      const bin = spawnSync(join(app, "node_modules", ".bin", "torrentxt"), ["--version"], {
        cwd: app,
        env,
        encoding: "utf8",
      });
      assert.equal(bin.status, 0, bin.stderr);
      assert.match(bin.stdout, new RegExp(`^torrentxt ${PACKAGE_VERSION.replaceAll(".", "\\.")} \\(bun\\)`));
    },
  );

  test(
    "bun build --compile makes one torrentxt executable carrying the bundle; it transfers with the system libtorrent hidden",
    {
      timeout: 120_000,
      skip: canUnshare ? false : "needs `unshare -m` (root) to hide the system libtorrent",
    },
    async () => {
      ensureBundle();
      using dir = new TempDir("torrentxt-compile-");
      const exe = dir.join("torrentxt");
      const libs = readdirSync(BUNDLE).filter((n) => /\.so/.test(n)).map((n) => join(BUNDLE, n));
      const r = spawnSync(BUN, ["build", "--compile", "--asset-naming=[name].[ext]", "--outfile", exe, CLI, ...libs], {
        cwd: ROOT,
        encoding: "utf8",
      });
      assert.equal(r.status, 0, `bun build --compile failed:\n${r.stderr}`);
      await compiledTransfer(exe, dir);
    },
  );

  const denort = denortAvailable();
  test(
    "deno compile makes one torrentxt executable carrying the bundle; it transfers with the system libtorrent hidden",
    {
      timeout: 180_000,
      skip: !canUnshare
        ? "needs `unshare -m` (root) to hide the system libtorrent"
        : denort
        ? false
        : "deno compile needs its runtime (denort), downloaded from dl.deno.land, which this machine cannot reach; " +
          "set DENORT_BIN to a denort binary to run this",
    },
    async () => {
      ensureBundle();
      using dir = new TempDir("torrentxt-compile-");
      const exe = dir.join("torrentxt");
      const r = spawnSync(
        DENO,
        ["compile", "-A", "--config", join(ROOT, "deno.json"), "--include", BUNDLE, "--output", exe, CLI],
        {
          cwd: ROOT,
          encoding: "utf8",
          env: { ...process.env, DENORT_BIN: denort?.endsWith(".zip") ? undefined : denort },
        },
      );
      assert.equal(r.status, 0, `deno compile failed:\n${r.stderr}`);
      await compiledTransfer(exe, dir);
    },
  );
});
