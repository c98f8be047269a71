// A small static HTTP file server for web seed tests (BEP 19): GET and HEAD
// with single Range requests, on node:http (runs under Deno and Bun), bound
// to 127.0.0.1. It records every request so a test can prove where bytes
// came from.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize, sep } from "node:path";

/** One request the server answered. */
export interface WebRequest {
  method: string;
  /** Decoded path, e.g. "/content/readme.txt". */
  path: string;
  /** The Range header, or "". */
  range: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
}

/** Serves the files under `root`. `await using server = await WebSeedServer.start(root)`. */
export class WebSeedServer implements AsyncDisposable {
  readonly requests: WebRequest[] = [];
  readonly root: string;
  #server: Server;
  #port = 0;

  private constructor(root: string, server: Server) {
    this.root = root;
    this.#server = server;
  }

  static start(root: string): Promise<WebSeedServer> {
    const server = createServer((req, res) => ws.#handle(req, res));
    const ws = new WebSeedServer(root, server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        ws.#port = (server.address() as AddressInfo).port;
        resolve(ws);
      });
    });
  }

  /** The base URL (ends with "/"): a web seed URL for a torrent whose files live under `root`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/`;
  }

  /** Total body bytes served. */
  get bytesServed(): number {
    return this.requests.reduce((n, r) => n + r.bytes, 0);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const rec: WebRequest = {
      method: req.method ?? "GET",
      path: "",
      range: String(req.headers.range ?? ""),
      status: 0,
      bytes: 0,
    };
    this.requests.push(rec);
    const done = (status: number, headers: Record<string, string | number> = {}, body?: Uint8Array) => {
      rec.status = status;
      rec.bytes = body && rec.method !== "HEAD" ? body.length : 0;
      res.writeHead(status, { "Connection": "close", ...headers });
      res.end(rec.method === "HEAD" ? undefined : body);
    };
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? "/").split("?")[0]);
    } catch {
      return done(400);
    }
    rec.path = path;
    if (rec.method !== "GET" && rec.method !== "HEAD") return done(405);
    const file = normalize(join(this.root, path));
    if (!file.startsWith(normalize(this.root) + sep)) return done(403);
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return done(404);
      size = st.size;
    } catch {
      return done(404);
    }
    let start = 0, end = size - 1, status = 200;
    const headers: Record<string, string | number> = {
      "Accept-Ranges": "bytes",
      "Content-Type": "application/octet-stream",
    };
    if (rec.range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(rec.range.trim());
      if (!m || (m[1] === "" && m[2] === "")) return done(416, { "Content-Range": `bytes */${size}` });
      if (m[1] === "") {
        start = Math.max(0, size - Number(m[2]));
      } else {
        start = Number(m[1]);
        if (m[2] !== "") end = Math.min(end, Number(m[2]));
      }
      if (start > end || start >= size) return done(416, { "Content-Range": `bytes */${size}` });
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    }
    const body = new Uint8Array(end - start + 1);
    const fd = openSync(file, "r");
    try {
      let off = 0;
      while (off < body.length) {
        const n = readSync(fd, body, off, body.length - off, start + off);
        if (n <= 0) break;
        off += n;
      }
    } finally {
      closeSync(fd);
    }
    headers["Content-Length"] = body.length;
    done(status, headers, body);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #closed: Promise<void> | undefined;

  /** Stops the server (idempotent). */
  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      const s = this.#server as Server & { closeAllConnections?: () => void };
      s.close(() => resolve());
      s.closeAllConnections?.();
    });
    return this.#closed;
  }
}
