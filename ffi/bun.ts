/**
 * The Bun adapter: `bun:ffi` with the shared symbol table. Bun has no
 * nonblocking FFI calls, so a Worker (ffi/_bun_waiter.ts) blocks in
 * btx_session_wait and posts a message when events are ready. Calls marked
 * nonblocking run synchronously here and return a resolved Promise.
 *
 * @module
 */
import { type NativeLib, type NativeSymbols, symbols } from "./symbols.ts";
import { bunWaiterUrl } from "./_bun_waiter.ts";

// Taken with process.getBuiltinModule (no import statement) so Deno's type
// checker and `deno publish` never resolve "bun:ffi", and `bun build
// --compile` needs nothing extra; this module only ever loads under Bun.
interface BunFfi {
  dlopen(path: string, defs: Record<string, { args: string[]; returns: string }>): {
    symbols: Record<string, (...args: unknown[]) => number>;
  };
}
const ffi = (globalThis as unknown as { process: { getBuiltinModule(id: string): unknown } }).process
  .getBuiltinModule("bun:ffi") as BunFfi;

const TYPE: Record<string, string> = { u32: "u32", i32: "i32", buffer: "ptr", f64: "f64" };

/** Bun's definitions, derived from the shared table. */
export function bunDefinitions(): Record<string, { args: string[]; returns: string }> {
  const defs: Record<string, { args: string[]; returns: string }> = {};
  for (const [name, def] of Object.entries(symbols)) {
    defs[name] = {
      args: (def.parameters as readonly string[]).map((p) => TYPE[p]),
      returns: TYPE[def.result],
    };
  }
  return defs;
}

/** Opens the library at `path` with Bun's FFI. */
export function open(path: string): NativeLib {
  const lib = ffi.dlopen(path, bunDefinitions());
  const sym: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(symbols)) {
    const fn = lib.symbols[name];
    sym[name] = "nonblocking" in def && def.nonblocking
      ? (...args: unknown[]) => {
        try {
          return Promise.resolve(fn(...args));
        } catch (e) {
          return Promise.reject(e);
        }
      }
      : fn;
  }
  const native = sym as unknown as NativeSymbols;
  return {
    path,
    symbols: native,
    waitLoop(session, onReady) {
      const worker = new Worker(bunWaiterUrl());
      let stopped = false;
      worker.onmessage = (e: MessageEvent) => {
        if (stopped) return;
        if (e.data === "ready") onReady();
        else if (e.data === "closed") stop();
      };
      // An idle session must not keep the process alive on its own; the
      // session refs the worker while a caller awaits an engine event (an
      // event stream's next(), a request's reply), as a pending socket would.
      const w = worker as unknown as { ref?: () => void; unref?: () => void };
      w.unref?.();
      worker.postMessage({ path, session });
      function stop() {
        if (stopped) return;
        stopped = true;
        worker.terminate();
      }
      return {
        stop() {
          native.btx_session_wake(session);
          stop();
        },
        ref() {
          if (!stopped) w.ref?.();
        },
        unref() {
          if (!stopped) w.unref?.();
        },
      };
    },
  };
}
