/**
 * Pure parsers and formatters of the streaming HTTP server: the Range
 * header, the URL routes, the Host header, content types, Content-Disposition,
 * HTML escaping. Nothing here throws on any input: every function returns a
 * result the handler maps to a status code.
 *
 * @module
 */

/** Most characters of a Range header looked at; longer ones are malformed (400). */
export const MAX_RANGE_HEADER = 4096;

/** What a Range header asks of a resource of `size` bytes. */
export type RangeResult =
  /** No Range header: the whole resource (200). */
  | { kind: "none" }
  /** One range to serve (206): first and last byte, inclusive. */
  | { kind: "range"; start: number; end: number }
  /** Well-formed but no range overlaps the resource (416). */
  | { kind: "unsatisfiable" }
  /** More ranges than the cap (416: refused by policy). */
  | { kind: "too_many"; count: number }
  /** Not a valid `bytes=` range set (400). */
  | { kind: "malformed"; reason: string };

const DIGITS = /^[0-9]+$/;
// Beyond 2^53 a number cannot be exact; such a position is past any file.
const toPos = (s: string): number => (s.length > 15 ? Number.MAX_SAFE_INTEGER : Number(s));

/**
 * Parses a Range header (RFC 9110 §14.1.1) against a resource of `size`
 * bytes. Only the `bytes` unit is accepted. Several ranges (up to
 * `maxRanges`) are served as one part: the span from the first byte asked
 * for to the last one (RFC 9110 lets a server coalesce ranges), since this
 * server sends no multipart bodies.
 * @param header the header's value, or null when absent
 * @param size resource size in bytes (>= 0)
 * @param maxRanges most ranges accepted (>= 1)
 */
export function parseRange(header: string | null, size: number, maxRanges: number): RangeResult {
  if (header === null) return { kind: "none" };
  if (typeof header !== "string" || header.length > MAX_RANGE_HEADER) {
    return { kind: "malformed", reason: "Range header too long" };
  }
  const eq = header.indexOf("=");
  if (eq < 0) return { kind: "malformed", reason: "Range has no '='" };
  if (header.slice(0, eq).trim().toLowerCase() !== "bytes") {
    return { kind: "malformed", reason: "only the bytes range unit is served" };
  }
  const specs = header.slice(eq + 1).split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (specs.length === 0) return { kind: "malformed", reason: "Range has no range" };
  if (specs.length > maxRanges) return { kind: "too_many", count: specs.length };
  let start = Infinity, end = -1;
  for (const spec of specs) {
    const dash = spec.indexOf("-");
    if (dash < 0) return { kind: "malformed", reason: "a range has no '-'" };
    const a = spec.slice(0, dash), b = spec.slice(dash + 1);
    if (a === "") {
      // suffix range: the last b bytes
      if (!DIGITS.test(b)) return { kind: "malformed", reason: "bad suffix length" };
      const n = toPos(b);
      if (n === 0 || size === 0) continue;
      start = Math.min(start, Math.max(0, size - n));
      end = size - 1;
      continue;
    }
    if (!DIGITS.test(a) || (b !== "" && !DIGITS.test(b))) return { kind: "malformed", reason: "bad range position" };
    const first = toPos(a);
    const last = b === "" ? Number.MAX_SAFE_INTEGER : toPos(b);
    if (last < first) return { kind: "malformed", reason: "a range ends before it starts" };
    if (first >= size) continue; // this one is unsatisfiable; others may not be
    start = Math.min(start, first);
    end = Math.max(end, Math.min(last, size - 1));
  }
  if (end < 0) return { kind: "unsatisfiable" };
  return { kind: "range", start, end };
}

/** A request path, routed. */
export type Route =
  /** `/`: the HTML index. */
  | { kind: "index" }
  /** `/torrents.json`: the JSON listing. */
  | { kind: "json" }
  /** `/playlist.m3u` (every torrent) or `/t/<info-hash>/playlist.m3u` (one). */
  | { kind: "playlist"; infoHash?: string }
  /** `/t/<info-hash>/<file index>[/<name>]`: one file; the name is cosmetic (ignored). */
  | { kind: "file"; infoHash: string; index: number }
  /** Anything else: `status` is 400 (malformed) or 404 (no such route). */
  | { kind: "error"; status: 400 | 404; reason: string };

const HASH = /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/;
const INDEX = /^(?:0|[1-9][0-9]{0,8})$/;

/**
 * Routes a URL path (still percent-encoded, as `URL.pathname` gives it)
 * below `basePath`. Every segment must percent-decode to valid UTF-8 and
 * may not decode to `.`, `..`, or contain `/`, `\` or NUL (400): no route
 * names a path on disk, and traversal attempts are refused outright.
 */
export function parseRoute(pathname: string, basePath = ""): Route {
  if (typeof pathname !== "string" || pathname.length > 8192) {
    return { kind: "error", status: 400, reason: "path too long" };
  }
  let p = pathname;
  if (basePath !== "") {
    if (p === basePath) p = "/";
    else if (p.startsWith(basePath + "/")) p = p.slice(basePath.length);
    else return { kind: "error", status: 404, reason: "outside the server's base path" };
  }
  if (!p.startsWith("/")) return { kind: "error", status: 400, reason: "path must start with /" };
  const raw = p.slice(1).split("/");
  const segs: string[] = [];
  for (const r of raw) {
    let s: string;
    try {
      s = decodeURIComponent(r);
    } catch {
      return { kind: "error", status: 400, reason: "bad percent-encoding" };
    }
    if (s === "." || s === ".." || /[/\\\0]/.test(s)) {
      return { kind: "error", status: 400, reason: "path segment refused" };
    }
    segs.push(s);
  }
  if (segs.length === 1 && segs[0] === "") return { kind: "index" };
  if (segs.length === 1 && segs[0] === "torrents.json") return { kind: "json" };
  if (segs.length === 1 && segs[0] === "playlist.m3u") return { kind: "playlist" };
  if (segs[0] !== "t" || segs.length < 3 || segs.length > 4 || segs.includes("")) {
    return { kind: "error", status: 404, reason: "no such route" };
  }
  const ih = segs[1];
  if (!HASH.test(ih)) return { kind: "error", status: 404, reason: "not an info-hash" };
  if (segs.length === 3 && segs[2] === "playlist.m3u") return { kind: "playlist", infoHash: ih.toLowerCase() };
  if (!INDEX.test(segs[2])) return { kind: "error", status: 404, reason: "not a file index" };
  return { kind: "file", infoHash: ih.toLowerCase(), index: Number(segs[2]) };
}

/**
 * The host name of a Host header, lowercased, without the port; undefined
 * when the header is missing or malformed (an empty name, a bad port,
 * characters no host name has).
 */
export function hostName(header: string | null): string | undefined {
  if (typeof header !== "string" || header.length === 0 || header.length > 300) return undefined;
  const h = header.toLowerCase();
  let name: string, rest: string;
  if (h.startsWith("[")) {
    const close = h.indexOf("]");
    if (close < 0) return undefined;
    name = h.slice(0, close + 1);
    rest = h.slice(close + 1);
    if (!/^\[[0-9a-f:.]+\]$/.test(name)) return undefined;
  } else {
    const colon = h.indexOf(":");
    name = colon < 0 ? h : h.slice(0, colon);
    rest = colon < 0 ? "" : h.slice(colon);
    if (!/^[a-z0-9._-]+$/.test(name)) return undefined;
  }
  if (rest !== "" && !/^:[0-9]{1,5}$/.test(rest)) return undefined;
  return name;
}

/** Normalises an allowed-host entry the way {@link hostName} reports names (bare IPv6 gets brackets). */
export function normalizeHost(h: string): string {
  const l = h.trim().toLowerCase();
  return l.includes(":") && !l.startsWith("[") ? `[${l}]` : l;
}

const TYPES: Record<string, string> = {
  mp4: "video/mp4",
  m4v: "video/mp4",
  mkv: "video/x-matroska",
  webm: "video/webm",
  avi: "video/x-msvideo",
  mov: "video/quicktime",
  ogv: "video/ogg",
  ts: "video/mp2t",
  mpg: "video/mpeg",
  mpeg: "video/mpeg",
  wmv: "video/x-ms-wmv",
  flv: "video/x-flv",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  aac: "audio/aac",
  flac: "audio/flac",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/opus",
  wav: "audio/wav",
  weba: "audio/webm",
  srt: "application/x-subrip",
  vtt: "text/vtt; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  nfo: "text/plain; charset=utf-8",
  json: "application/json",
  pdf: "application/pdf",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  zip: "application/zip",
  iso: "application/x-iso9660-image",
};

/**
 * Content-Type by file extension. Types a browser would run as a document
 * in this server's origin (HTML, SVG, XML, JavaScript, …) are not listed:
 * they are served as `application/octet-stream`.
 */
export function contentType(name: string): string {
  const dot = name.lastIndexOf(".");
  if (dot < 0) return "application/octet-stream";
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

/** True for audio and video types (their first and last pieces are fetched early; they go in playlists). */
export function isMedia(type: string): boolean {
  return type.startsWith("video/") || type.startsWith("audio/");
}

/**
 * A Content-Disposition value with an ASCII `filename` fallback and the
 * exact name in RFC 5987 / RFC 8187 `filename*=UTF-8''…`.
 */
export function contentDisposition(name: string, attachment: boolean): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  // Lone surrogates cannot be percent-encoded as UTF-8: U+FFFD stands in.
  const wellFormed = name.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
  const star = encodeURIComponent(wellFormed).replace(
    /['()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
  return `${attachment ? "attachment" : "inline"}; filename="${fallback}"; filename*=UTF-8''${star}`;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One line of text for an .m3u entry: control characters (CR, LF, …) become spaces. */
export function m3uText(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, " ");
}

/** The last segment of a "/"-separated path. */
export function baseName(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? path : path.slice(i + 1);
}
