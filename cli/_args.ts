/**
 * A small strict command-line parser: `--name value`, `--name=value`,
 * short aliases (`-o dir`), repeatable options, `--` to end options.
 * Anything unknown or malformed is a {@link UsageError} (exit code 2).
 *
 * @module
 */

/** A mistake in how the CLI was called: bad arguments, bad input. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
  /** Makes one; `hint` is printed after the message (e.g. "try torrentxt download --help"). */
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** How one option is read. */
export interface OptionSpec {
  /** "flag": no value; "value": one value (last wins); "list": repeatable. */
  kind: "flag" | "value" | "list";
  /** A one-letter alias, without the dash. */
  short?: string;
  /** The value's name in help text. */
  arg?: string;
  /** One line of help. */
  help: string;
}

/** Parsed arguments: positionals in order, options by name. */
export interface Parsed {
  positionals: string[];
  flags: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
}

/** Parses `argv` against `specs`; throws UsageError for anything it does not know. */
export function parseArgs(argv: string[], specs: Record<string, OptionSpec>, command: string): Parsed {
  const out: Parsed = { positionals: [], flags: new Set(), values: new Map(), lists: new Map() };
  const byShort = new Map<string, string>();
  for (const [name, s] of Object.entries(specs)) if (s.short) byShort.set(s.short, name);
  const hint = `try: torrentxt ${command} --help`;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined, inline: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (!(name in specs)) throw new UsageError(`${command}: unknown option --${name}`, hint);
    } else if (a.length > 1 && a.startsWith("-") && !/^-\d/.test(a)) {
      const letter = a.slice(1, 2);
      name = byShort.get(letter);
      if (!name) throw new UsageError(`${command}: unknown option ${a}`, hint);
      if (a.length > 2) inline = a[2] === "=" ? a.slice(3) : a.slice(2);
    } else {
      out.positionals.push(a);
      continue;
    }
    const spec = specs[name];
    if (spec.kind === "flag") {
      if (inline !== undefined) throw new UsageError(`${command}: --${name} takes no value`, hint);
      out.flags.add(name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) {
        throw new UsageError(`${command}: --${name} needs a value (${spec.arg ?? "value"})`, hint);
      }
      value = argv[++i];
    }
    if (value === "") throw new UsageError(`${command}: --${name} needs a non-empty value`, hint);
    if (spec.kind === "value") out.values.set(name, value);
    else out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
  }
  return out;
}

/** Help text for the options of a command. */
export function optionsHelp(specs: Record<string, OptionSpec>): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : "    "}--${name}${s.kind === "flag" ? "" : ` <${s.arg ?? "value"}>`}`;
    return [left + (s.kind === "list" ? " ..." : ""), s.help];
  });
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([l, r]) => `  ${l.padEnd(w)}  ${r}`).join("\n");
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i;
const MULT: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses a byte count: "16384", "256k", "1m", "2MiB" (k = 1024). */
export function parseBytes(text: string, what: string): number {
  const m = SIZE.exec(text.trim());
  if (!m) throw new UsageError(`${what}: "${text}" is not a size (like 16384, 256k, 4m)`);
  const n = Math.round(Number(m[1]) * MULT[m[2].toLowerCase()]);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what}: "${text}" is too large`);
  return n;
}

/** Parses a non-negative integer within [min, max]. */
export function parseInteger(text: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what}: "${text}" is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${what}: ${n} is out of range ${min}..${max}`);
  return n;
}

/** Parses a positive number of seconds (fractions allowed). */
export function parseSeconds(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0) || n > 86400) {
    throw new UsageError(`${what}: "${text}" is not a number of seconds (0 < s <= 86400)`);
  }
  return n;
}

/** A parsed "host:port" endpoint. */
export interface Endpoint {
  host: string;
  port: number;
}

/** Parses "host:port", "[v6]:port"; "localhost" becomes 127.0.0.1. */
export function parseEndpoint(text: string, what: string): Endpoint {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):(\d{1,5})$/.exec(text);
  if (!m) throw new UsageError(`${what}: "${text}" is not host:port (IPv6 as [addr]:port)`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`${what}: port ${port} is out of range 1..65535`);
  let host = m[1].startsWith("[") ? m[1].slice(1, -1) : m[1];
  if (host === "localhost") host = "127.0.0.1";
  return { host, port };
}

/** True for 127.0.0.0/8 and ::1. */
export function isLoopback(host: string): boolean {
  return /^127(\.\d{1,3}){3}$/.test(host) || host === "::1";
}
