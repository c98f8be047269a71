// Bun Worker: blocks in btx_session_wait for one session and posts "ready"
// each time events are ready, "closed" when the session closes. Runs no
// script on libtorrent's threads: the wait returns on this worker's thread.
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
};
const postMessage = (m: unknown) => scope.postMessage(m);

scope.onmessage = async (e: MessageEvent) => {
  const { path, session } = e.data as { path: string; session: number };
  const ffi: BunFfi = await import(["bun", "ffi"].join(":"));
  const lib = ffi.dlopen(path, { btx_session_wait: { args: ["u32", "i32"], returns: "i32" } });
  const wait = lib.symbols.btx_session_wait;
  for (;;) {
    const rc = wait(session, -1);
    if (rc === BTX_OK) {
      postMessage("ready");
      // Let the message go out before blocking again.
      await Promise.resolve();
    } else if (rc !== BTX_E_TIMEOUT) {
      postMessage("closed");
      break;
    }
  }
};
