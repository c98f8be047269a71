/**
 * Serves a fetch handler on 127.0.0.1 with Deno.serve or Bun.serve.
 * @module
 */
declare const Deno: {
  serve(
    o: { hostname: string; port: number; onListen?: () => void },
    h: (r: Request) => Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
} | undefined;
declare const Bun: {
  serve(o: { hostname: string; port: number; fetch: (r: Request) => Promise<Response>; idleTimeout?: number }): {
    port: number;
    stop(force?: boolean): void;
  };
} | undefined;

/** A running server. */
export interface Served {
  port: number;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1:`port` (0: a free port). */
export function serve(handler: (r: Request) => Promise<Response>, port = 0): Promise<Served> {
  if (typeof Deno !== "undefined") {
    const s = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);
    return Promise.resolve({ port: s.addr.port, close: () => s.shutdown() });
  }
  if (typeof Bun !== "undefined") {
    // idleTimeout 0: the live update stream stays open.
    const s = Bun.serve({ hostname: "127.0.0.1", port, fetch: handler, idleTimeout: 0 });
    return Promise.resolve({ port: s.port, close: () => Promise.resolve(s.stop(true)) });
  }
  throw new Error("serve: needs Deno or Bun");
}
