/**
 * Generates docs/api-reference.md from the JSDoc of every public entry
 * point (mod.ts and each plugin's mod.ts), through `deno doc --json`.
 *
 *   deno run -A scripts/gen_api_reference.ts           # rewrite docs/api-reference.md
 *   deno run -A scripts/gen_api_reference.ts --check   # exit 1 if it is out of date
 *
 * tests/api_reference.test.ts runs the --check under Deno and under Bun, and
 * also checks the page against the modules' run-time exports and class
 * members, so the reference cannot drift from the code.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "docs/api-reference.md");
const DENO = process.env.DENO_BIN ?? join(ROOT, "node_modules/.bin/deno");

/** The public entry points: mod.ts, then plugins/<name>/mod.ts in name order. */
export function entryPoints(): string[] {
  const out = ["mod.ts"];
  const dir = join(ROOT, "plugins");
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (existsSync(join(dir, name, "mod.ts"))) out.push(`plugins/${name}/mod.ts`);
    }
  }
  return out;
}

// deno-lint-ignore no-explicit-any
type J = any;

function typeText(t: J): string {
  if (!t) return "unknown";
  const v = t.value;
  switch (t.kind) {
    case "keyword":
      return String(v);
    case "typeRef":
      return v.typeName + (v.typeParams?.length ? `<${v.typeParams.map(typeText).join(", ")}>` : "");
    case "literal":
      if (v.kind === "string") return JSON.stringify(v.string);
      if (v.kind === "number") return String(v.number);
      if (v.kind === "boolean") return String(v.boolean);
      if (v.kind === "bigInt") return `${v.string}n`;
      return t.repr || "literal";
    case "union":
      return v.map(typeText).join(" | ");
    case "intersection":
      return v.map(typeText).join(" & ");
    case "array": {
      const inner = typeText(v);
      return /[|& ]/.test(inner) ? `(${inner})[]` : `${inner}[]`;
    }
    case "tuple":
      return `[${v.map(typeText).join(", ")}]`;
    case "parenthesized":
      return `(${typeText(v)})`;
    case "typeOperator":
      return `${v.operator} ${typeText(v.tsType)}`;
    case "indexedAccess":
      return `${typeText(v.objType)}[${typeText(v.indexType)}]`;
    case "typeQuery":
      return `typeof ${v}`;
    case "fnOrConstructor":
      return `${v.constructor ? "new " : ""}(${v.params.map(paramText).join(", ")}) => ${typeText(v.tsType)}`;
    case "typeLiteral": {
      const parts = [
        ...(v.properties ?? []).map((p: J) =>
          `${p.readonly ? "readonly " : ""}${p.name}${p.optional ? "?" : ""}: ${typeText(p.tsType)}`
        ),
        ...(v.methods ?? []).map((m: J) =>
          `${m.name}(${(m.params ?? []).map(paramText).join(", ")}): ${typeText(m.returnType)}`
        ),
        ...(v.indexSignatures ?? []).map((s: J) =>
          `[${(s.params ?? []).map(paramText).join(", ")}]: ${typeText(s.tsType)}`
        ),
      ];
      return parts.length ? `{ ${parts.join("; ")} }` : "{}";
    }
    case "mapped":
      return `{ [${v.typeParam.name} in ${typeText(v.typeParam.constraint)}]: ${typeText(v.tsType)} }`;
    case "conditional":
      return `${typeText(v.checkType)} extends ${typeText(v.extendsType)} ? ${typeText(v.trueType)} : ${
        typeText(v.falseType)
      }`;
    case "typePredicate":
      return `${v.param?.name ?? "this"} is ${typeText(v.type)}`;
    case "this":
      return "this";
    case "optional":
      return `${typeText(v)}?`;
    case "rest":
      return `...${typeText(v)}`;
    default:
      return t.repr || t.kind || "unknown";
  }
}

function paramText(p: J): string {
  switch (p.kind) {
    case "identifier":
      return `${p.name}${p.optional ? "?" : ""}: ${typeText(p.tsType)}`;
    case "assign": {
      const left = paramText(p.left);
      return left.replace(/^([^:?]+)(\??):/, "$1?:");
    }
    case "rest":
      return `...${paramText(p.arg)}`;
    case "object":
      return `{ ${(p.props ?? []).map((x: J) => x.key ?? x.name ?? "…").join(", ")} }${p.optional ? "?" : ""}: ${
        typeText(p.tsType)
      }`;
    case "array":
      return `[…]: ${typeText(p.tsType)}`;
    default:
      return "…";
  }
}

function typeParamsText(tps: J[] | undefined): string {
  if (!tps?.length) return "";
  return `<${
    tps.map((tp) =>
      tp.name + (tp.constraint ? ` extends ${typeText(tp.constraint)}` : "") +
      (tp.default ? ` = ${typeText(tp.default)}` : "")
    ).join(", ")
  }>`;
}

/** JSDoc text with its tags (@throws, @param…) as a short list; examples kept as code. */
function docText(doc: J): string {
  if (!doc) return "";
  const lines: string[] = [];
  if (doc.doc) lines.push(doc.doc.trim());
  for (const tag of doc.tags ?? []) {
    switch (tag.kind) {
      case "throws":
        lines.push(`Throws: ${(tag.doc ?? "").trim()}`);
        break;
      case "param":
        lines.push(`- \`${tag.name}\`: ${(tag.doc ?? "").trim()}`);
        break;
      case "return":
        lines.push(`Returns: ${(tag.doc ?? "").trim()}`);
        break;
      case "example":
        lines.push(`Example: ${(tag.doc ?? "").trim()}`);
        break;
      case "deprecated":
        lines.push(`**Deprecated.** ${(tag.doc ?? "").trim()}`);
        break;
      default:
        break;
    }
  }
  return lines.join("\n\n");
}

/** One table cell: the first paragraph of a doc, on one line. */
function cell(doc: J): string {
  const text = (doc?.doc ?? "").trim().split(/\n\s*\n/)[0].replace(/\s*\n\s*/g, " ");
  const throws = (doc?.tags ?? []).filter((t: J) => t.kind === "throws").map((t: J) => (t.doc ?? "").trim());
  const all = throws.length ? `${text} Throws: ${throws.join("; ")}` : text;
  return all.replace(/\|/g, "\\|");
}

function code(s: string): string {
  const esc = s.replace(/\|/g, "\\|");
  return esc.includes("`") ? `\`\` ${esc} \`\`` : `\`${esc}\``;
}

function renderClass(name: string, d: J, out: string[]): void {
  const def = d.def;
  out.push(`### class ${name}${typeParamsText(def.typeParams)}`, "");
  const doc = docText(d.jsDoc);
  if (doc) out.push(doc, "");
  const rows: string[][] = [];
  for (const c of def.constructors ?? []) {
    if (c.accessibility === "private") continue;
    rows.push([code(`new ${name}(${(c.params ?? []).map(paramText).join(", ")})`), cell(c.jsDoc)]);
  }
  for (const p of def.properties ?? []) {
    if (p.accessibility === "private" || p.accessibility === "protected" || p.name.startsWith("#")) continue;
    const sig = `${p.isStatic ? "static " : ""}${p.readonly ? "readonly " : ""}${p.name}${p.optional ? "?" : ""}: ${
      typeText(p.tsType)
    }`;
    rows.push([code(sig), cell(p.jsDoc)]);
  }
  const seen = new Set<string>();
  for (const m of def.methods ?? []) {
    if (m.accessibility === "private" || m.accessibility === "protected" || String(m.name).startsWith("#")) continue;
    const key = `${m.isStatic}:${m.kind}:${m.name}`;
    if (seen.has(key)) continue; // overloads: the first
    seen.add(key);
    const fd = m.functionDef;
    const ret = typeText(fd.returnType);
    const sig = m.kind === "getter"
      ? `${m.isStatic ? "static " : ""}get ${m.name}: ${ret}`
      : m.kind === "setter"
      ? `set ${m.name}(${(fd.params ?? []).map(paramText).join(", ")})`
      : `${m.isStatic ? "static " : ""}${m.name}${typeParamsText(fd.typeParams)}(${
        (fd.params ?? []).map(paramText).join(", ")
      }): ${ret}`;
    rows.push([code(sig), cell(m.jsDoc)]);
  }
  if (rows.length) {
    out.push("| member | description |", "| --- | --- |", ...rows.map((r) => `| ${r[0]} | ${r[1]} |`), "");
  }
}

function renderInterface(name: string, d: J, out: string[]): void {
  const def = d.def;
  const ext = (def.extends ?? []).map(typeText);
  out.push(
    `### interface ${name}${typeParamsText(def.typeParams)}${ext.length ? ` extends ${ext.join(", ")}` : ""}`,
    "",
  );
  const doc = docText(d.jsDoc);
  if (doc) out.push(doc, "");
  const rows: string[][] = [];
  for (const p of def.properties ?? []) {
    rows.push([
      code(`${p.readonly ? "readonly " : ""}${p.name}${p.optional ? "?" : ""}: ${typeText(p.tsType)}`),
      cell(p.jsDoc),
    ]);
  }
  for (const m of def.methods ?? []) {
    rows.push([
      code(
        `${m.name}${m.optional ? "?" : ""}(${(m.params ?? []).map(paramText).join(", ")}): ${typeText(m.returnType)}`,
      ),
      cell(m.jsDoc),
    ]);
  }
  if (rows.length) {
    out.push("| field | description |", "| --- | --- |", ...rows.map((r) => `| ${r[0]} | ${r[1]} |`), "");
  }
}

function render(): string {
  const out: string[] = [
    "# API reference",
    "",
    "<!-- Generated by scripts/gen_api_reference.ts from the JSDoc of the code; do not edit by hand.",
    "     Regenerate: node_modules/.bin/deno run -A scripts/gen_api_reference.ts -->",
    "",
    "Every public export of TorrentXT, by entry point, from the JSDoc in the code (units, ranges and error codes are",
    "stated there). Errors are `TorrentError` with a stable `code` (see `ErrorCode`). Events are the `TorrentEvent`",
    "union: `type` is libtorrent's alert name without `_alert`; the fields of each are listed under `EventFields`.",
    "Guides: [getting started](getting-started.md) where present, [control](control.md),",
    "[inspection](inspection.md), [IP filter and DHT](ipfilter-and-dht.md), [architecture](architecture.md).",
    "",
  ];
  const entries = entryPoints();
  out.push("## Entry points", "");
  for (const e of entries) {
    const spec = e === "mod.ts" ? "." : `./${dirname(e)}`;
    out.push(`- [\`${spec}\`](#${anchor(e)}) — \`${e}\``);
  }
  out.push("");
  const json = JSON.parse(
    execFileSync(DENO, ["doc", "--json", "--config", join(ROOT, "deno.json"), ...entries], {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 256 << 20,
      env: { ...process.env, NO_COLOR: "1" },
    }),
  );
  for (const e of entries) {
    const url = Object.keys(json.nodes).find((k) => k.endsWith("/" + e) && relative(ROOT, fileURLToPath(k)) === e);
    if (!url) throw new Error(`deno doc gave nothing for ${e}`);
    const mod = json.nodes[url];
    out.push(`## ${e}`, "");
    const mdoc = (mod.module_doc?.doc ?? "").trim().split(/\n\s*\n/)[0];
    if (mdoc) out.push(mdoc, "");
    const symbols = [...mod.symbols].sort((a: J, b: J) => order(a) - order(b) || a.name.localeCompare(b.name));
    for (const s of symbols) {
      for (const d of s.declarations) {
        switch (d.kind) {
          case "class":
            renderClass(s.name, d, out);
            break;
          case "interface":
            renderInterface(s.name, d, out);
            break;
          case "function": {
            const fd = d.def;
            out.push(
              `### function ${s.name}`,
              "",
              "```ts",
              `${fd.isAsync ? "async " : ""}function ${s.name}${typeParamsText(fd.typeParams)}(${
                (fd.params ?? []).map(paramText).join(", ")
              }): ${typeText(fd.returnType)}`,
              "```",
              "",
            );
            const doc = docText(d.jsDoc);
            if (doc) out.push(doc, "");
            break;
          }
          case "typeAlias": {
            const def = d.def;
            out.push(
              `### type ${s.name}${typeParamsText(def.typeParams)}`,
              "",
              "```ts",
              `type ${s.name} = ${typeText(def.tsType)}`,
              "```",
              "",
            );
            const doc = docText(d.jsDoc);
            if (doc) out.push(doc, "");
            break;
          }
          case "variable": {
            out.push(`### const ${s.name}`, "", "```ts", `const ${s.name}: ${typeText(d.def.tsType)}`, "```", "");
            const doc = docText(d.jsDoc);
            if (doc) out.push(doc, "");
            break;
          }
          case "enum":
            out.push(`### enum ${s.name}`, "", docText(d.jsDoc), "");
            break;
          default:
            break;
        }
        break; // one declaration per symbol (overloads: the first)
      }
    }
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

function order(s: J): number {
  const k = s.declarations[0]?.kind;
  return { function: 0, class: 1, variable: 2, interface: 3, typeAlias: 4 }[k as string] ?? 5;
}

function anchor(e: string): string {
  return e.toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-");
}

/** Formats the page as `deno fmt` would, so the check is stable. */
function formatted(md: string): string {
  // deno fmt is not always idempotent on long type blocks: format until stable.
  for (let i = 0; i < 4; i++) {
    const next = fmtOnce(md);
    if (next === md) break;
    md = next;
  }
  return md;
}

function fmtOnce(md: string): string {
  return execFileSync(DENO, ["fmt", "--config", join(ROOT, "deno.json"), "--ext", "md", "-"], {
    cwd: ROOT,
    input: md,
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
}

if (import.meta.main || process.argv[1]?.endsWith("gen_api_reference.ts")) {
  const md = formatted(render());
  if (process.argv.includes("--check")) {
    const have = existsSync(OUT) ? readFileSync(OUT, "utf8") : "";
    if (have !== md) {
      console.error(
        "docs/api-reference.md is out of date: run node_modules/.bin/deno run -A scripts/gen_api_reference.ts",
      );
      process.exit(1);
    }
    console.log("docs/api-reference.md is up to date");
  } else {
    writeFileSync(OUT, md);
    console.log(`wrote ${relative(ROOT, OUT)} (${md.length} bytes, ${md.split("\n").length} lines)`);
  }
}
