/**
 * The Deno adapter: `Deno.dlopen` with the shared symbol table. The wait
 * loop is a `nonblocking` FFI call that sleeps on a thread of Deno's
 * blocking pool and resolves when the shim signals events.
 *
 * @module
 */
import { type NativeLib, type NativeSymbols, symbols } from "./symbols.ts";

const BTX_OK = 0;

/** Opens the library at `path` with Deno's FFI. */
export function open(path: string): NativeLib {
  const lib = Deno.dlopen(path, symbols);
  const sym = lib.symbols as unknown as NativeSymbols;
  return {
    path,
    symbols: sym,
    waitLoop(session, onReady) {
      let stopped = false;
      (async () => {
        while (!stopped) {
          const rc = await sym.btx_session_wait(session, -1);
          if (stopped) break;
          if (rc !== BTX_OK) break; // closed (or a closed handle)
          onReady();
        }
      })();
      return {
        stop() {
          stopped = true;
          sym.btx_session_wake(session);
        },
      };
    },
  };
}
