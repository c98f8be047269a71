/**
 * Serves a fetch handler with `Deno.serve` or `Bun.serve`, whichever
 * runtime this is.
 *
 * @module
 */
import { TorrentError } from "../../mod.ts";

type Handler = (req: Request) => Promise<Response>;

interface DenoLike {
  serve(
    o: { hostname: string; port: number; onListen?: () => void; onError?: (e: unknown) => Response },
    h: Handler,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}
interface BunLike {
  serve(o: {
    hostname: string;
    port: number;
    fetch: Handler;
    idleTimeout?: number;
    error?: (e: unknown) => Response;
  }): { port: number; stop(force?: boolean): void | Promise<void> };
}

/** A listening server. */
export interface Listening {
  /** The port bound. */
  port: number;
  /** Stops listening and closes the connections. */
  close(): Promise<void>;
}

const failed = () => new Response("500 internal error\n", { status: 500, headers: { "content-type": "text/plain" } });

/**
 * Listens on `hostname`:`port` (0: a free port).
 * @throws TorrentError LISTEN_FAILED (address in use, not allowed, not Deno or Bun)
 */
export function listen(hostname: string, port: number, handler: Handler): Listening {
  const g = globalThis as { Deno?: DenoLike; Bun?: BunLike };
  try {
    if (g.Deno?.serve) {
      const s = g.Deno.serve({ hostname, port, onListen: () => {}, onError: failed }, handler);
      return { port: s.addr.port, close: () => s.shutdown() };
    }
    if (g.Bun?.serve) {
      // idleTimeout 0: a response waiting for a slow piece is not cut off.
      const s = g.Bun.serve({ hostname, port, fetch: handler, idleTimeout: 0, error: failed });
      return { port: s.port, close: async () => void await s.stop(true) };
    }
  } catch (e) {
    throw new TorrentError("LISTEN_FAILED", `http: cannot listen on ${hostname}:${port}: ${(e as Error)?.message}`, {
      cause: e,
    });
  }
  throw new TorrentError("LISTEN_FAILED", "http: serving needs Deno or Bun (use serve: false and mount the handler)");
}
