/**
 * The plugin contract: `session.use(plugin)` attaches a plugin to a session
 * and returns its handle; disposing the handle (or closing the session)
 * detaches it. Plugins use only the public API.
 *
 * @module
 */
import { TorrentError } from "./errors.ts";
import type { Session } from "./session.ts";

/** What a plugin's `attach()` returns: its own API plus `detach()`. */
export interface PluginInstance {
  /** Releases everything the plugin holds (servers, timers, subscriptions). Called once. */
  detach(): void | Promise<void>;
}

/**
 * A plugin: a name and an `attach(session)` that starts it on a session.
 * `attach` must return a new object each time (the session adds `detached`
 * and `Symbol.asyncDispose` to it).
 *
 * @example A plugin that counts finished torrents
 * ```ts
 * import type { Plugin, PluginInstance } from "./mod.ts";
 * function counter(): Plugin<PluginInstance & { count: number }> {
 *   return {
 *     name: "counter",
 *     attach(session) {
 *       const events = session.events({ types: ["torrent_finished"] });
 *       const self = { count: 0, detach: () => void events.return() };
 *       (async () => { for await (const _ of events) self.count++; })();
 *       return self;
 *     },
 *   };
 * }
 * ```
 */
export interface Plugin<T extends PluginInstance = PluginInstance> {
  /** A short name, for error messages. */
  readonly name: string;
  /** Starts the plugin on `session`. */
  attach(session: Session): T | Promise<T>;
}

/** The handle `session.use()` returns: the plugin's API, idempotent `detach()`, and `await using` support. */
export type Attached<T extends PluginInstance> = T & AsyncDisposable & {
  /** True once detached (by `detach()`, disposal, or the session closing). */
  readonly detached: boolean;
  /** Detaches the plugin; later calls return the same promise. */
  detach(): Promise<void>;
};

/** Attaches `plugin`; registers the handle in `registry` until it is detached. @internal */
export async function attachPlugin<T extends PluginInstance>(
  session: Session,
  plugin: Plugin<T>,
  registry: Set<Attached<PluginInstance>>,
): Promise<Attached<T>> {
  if (plugin === null || typeof plugin !== "object" || typeof plugin.attach !== "function") {
    throw new TorrentError("INVALID_ARGUMENT", "use: give a plugin (an object with name and attach(session))");
  }
  const name = typeof plugin.name === "string" && plugin.name !== "" ? plugin.name : "plugin";
  const inst = await plugin.attach(session);
  if (inst === null || typeof inst !== "object" || typeof inst.detach !== "function") {
    throw new TorrentError("INVALID_ARGUMENT", `use: ${name}.attach() must return an object with detach()`);
  }
  if (Object.prototype.hasOwnProperty.call(inst, "detached")) {
    throw new TorrentError("INVALID_ARGUMENT", `use: ${name}.attach() returned an object already attached`);
  }
  const own = inst.detach.bind(inst);
  let done: Promise<void> | undefined;
  const handle = inst as unknown as Attached<T>;
  const detach = (): Promise<void> => {
    done ??= (async () => {
      registry.delete(handle as unknown as Attached<PluginInstance>);
      await own();
    })();
    return done;
  };
  Object.defineProperties(inst, {
    detached: { get: () => done !== undefined, enumerable: false },
    detach: { value: detach, enumerable: false },
    [Symbol.asyncDispose]: { value: detach, enumerable: false },
  });
  registry.add(handle as unknown as Attached<PluginInstance>);
  if (session.closed) {
    await detach();
    throw new TorrentError("SESSION_CLOSED", `use: the session closed while ${name} attached`);
  }
  return handle;
}
