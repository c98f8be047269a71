// The body of the Bun Worker that blocks in btx_session_wait for one session
// and posts "ready" each time events are ready, "closed" when the session
// closes. Runs no script on libtorrent's threads: the wait returns on the
// worker's thread.
//
// ffi/bun.ts starts it from source text (`waiterSource()`: this function,
// stringified) through a blob: URL rather than from this file's path, so it
// also works where there is no file to point at: inside an executable made
// by `bun build --compile`, or a bundle. So the function must be
// self-contained: no reference to anything outside its own body.

/** The worker's code. Runs in the worker, never in the main thread. */
export function bunWaiterMain(): void {
  interface BunFfi {
    dlopen(path: string, defs: Record<string, { args: string[]; returns: string }>): {
      symbols: Record<string, (...args: unknown[]) => number>;
    };
  }
  const BTX_OK = 0;
  const BTX_E_TIMEOUT = 9;
  // The worker's global scope (typed without the WebWorker lib, which the
  // main program's type check does not load).
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent) => void) | null;
    postMessage(message: unknown): void;
    process: { getBuiltinModule(id: string): unknown };
  };
  scope.onmessage = async (e: MessageEvent) => {
    const { path, session } = e.data as { path: string; session: number };
    const ffi = scope.process.getBuiltinModule("bun:ffi") as BunFfi;
    const lib = ffi.dlopen(path, { btx_session_wait: { args: ["u32", "i32"], returns: "i32" } });
    const wait = lib.symbols.btx_session_wait;
    for (;;) {
      const rc = wait(session, -1);
      if (rc === BTX_OK) {
        scope.postMessage("ready");
        // Let the message go out before blocking again.
        await Promise.resolve();
      } else if (rc !== BTX_E_TIMEOUT) {
        scope.postMessage("closed");
        break;
      }
    }
  };
}

let url: string | undefined;

/** A blob: URL of the worker's script (made once per process). */
export function bunWaiterUrl(): string {
  url ??= URL.createObjectURL(
    new Blob([`(${bunWaiterMain.toString()})();\n`], { type: "application/javascript" }),
  );
  return url;
}
