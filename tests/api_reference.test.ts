/**
 * docs/api-reference.md matches the code: the generator's --check passes
 * (the page is what `deno doc` of the sources renders today), and every
 * run-time export of each entry point, and every public member of each
 * exported class, has its entry on the page.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PAGE = readFileSync(join(ROOT, "docs/api-reference.md"), "utf8");

function entryPoints(): string[] {
  const out = ["mod.ts"];
  for (const name of readdirSync(join(ROOT, "plugins")).sort()) {
    if (existsSync(join(ROOT, "plugins", name, "mod.ts"))) out.push(`plugins/${name}/mod.ts`);
  }
  return out;
}

/** The page's section of one entry point: from its `## path` heading to the next `## `. */
function section(entry: string): string {
  const start = PAGE.indexOf(`\n## ${entry}\n`);
  assert.ok(start >= 0, `docs/api-reference.md has no section for ${entry}`);
  const next = PAGE.indexOf("\n## ", start + 4);
  return PAGE.slice(start, next < 0 ? undefined : next);
}

/** The member table of `### class name` inside a section. */
function classBlock(sec: string, name: string): string {
  const start = sec.indexOf(`\n### class ${name}\n`);
  assert.ok(start >= 0, `no "### class ${name}"`);
  const next = sec.indexOf("\n### ", start + 5);
  return sec.slice(start, next < 0 ? undefined : next);
}

describe("docs/api-reference.md", () => {
  test("is what scripts/gen_api_reference.ts renders from the sources today", () => {
    const deno = join(ROOT, "node_modules/.bin/deno");
    let out: string;
    try {
      out = execFileSync(deno, ["run", "-A", "scripts/gen_api_reference.ts", "--check"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string };
      assert.fail(`the generator's --check failed:\n${err.stderr ?? ""}${err.stdout ?? ""}`);
    }
    assert.match(out, /up to date/);
  });

  for (const entry of entryPoints()) {
    test(`covers every run-time export of ${entry} and every public member of its classes`, async () => {
      const mod = await import(join(ROOT, entry)) as Record<string, unknown>;
      const sec = section(entry);
      const names = Object.keys(mod);
      assert.ok(names.length > 0);
      let members = 0;
      for (const name of names) {
        const value = mod[name];
        const heading = new RegExp(`\\n### (class|function|const|enum) ${name}\\b`);
        assert.ok(heading.test(sec), `${entry}: export ${name} has no entry`);
        if (typeof value !== "function" || !/^class\b/.test(Function.prototype.toString.call(value))) continue;
        const block = classBlock(sec, name);
        const own = (o: object) =>
          Object.getOwnPropertyNames(o).filter((k) =>
            !["constructor", "prototype", "length", "name", "caller", "arguments"].includes(k) &&
            !k.startsWith("_")
          );
        for (const m of [...own(value.prototype as object), ...own(value)]) {
          // A row starts with the member's signature: `name(`, `get name:`, `static name(`, `name:`…
          const row = new RegExp("\\| `(static )?(readonly )?(get |set )?(async )?" + m + "\\b");
          assert.ok(row.test(block), `${entry}: ${name}.${m} has no row in its member table`);
          members++;
        }
      }
      if (entry === "mod.ts") assert.ok(members > 50, `only ${members} class members checked`);
    });
  }
});
