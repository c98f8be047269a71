/**
 * Settings by name: every libtorrent setting, typed (int / bool / string),
 * validated, enumerable at run time (see `session.settings`).
 *
 * @module
 */
import { type Native, readText } from "./_native.ts";
import { bdecode, type BDecoded, bencode, type BValue } from "./bencode.ts";
import { TorrentError } from "./errors.ts";
import type { SettingValue } from "./session.ts";

/** The type of a libtorrent setting. */
export type SettingType = "string" | "int" | "bool";

/** One libtorrent setting: its name, type, current value and libtorrent's default. */
export interface SettingInfo {
  /** libtorrent's name (settings_pack), e.g. `"upload_rate_limit"`. */
  name: string;
  /** Its type: what `set()` accepts for it. */
  type: SettingType;
  /** The session's current value. */
  value: SettingValue;
  /** libtorrent's default value. */
  default: SettingValue;
}

/** Encryption policy presets for {@link SessionSettings.setEncryption}. */
export type EncryptionPolicy = "forced" | "enabled" | "disabled";

interface CatalogEntry {
  type: SettingType;
  default: SettingValue;
}

const TYPES: readonly SettingType[] = ["string", "int", "bool"];
const dec = new TextDecoder();

let catalog: Map<string, CatalogEntry> | undefined;

/** Every setting libtorrent has, in its order (read once per process). @internal */
export function settingsCatalog(native: Native): Map<string, CatalogEntry> {
  if (catalog) return catalog;
  const sym = native.sym;
  const text = readText(sym, (b, c, o) => sym.btx_settings_catalog(b, c, o));
  const list = bdecode(new TextEncoder().encode(text)) as [Uint8Array, number, Uint8Array | number][];
  const m = new Map<string, CatalogEntry>();
  for (const [name, t, d] of list) {
    const type = TYPES[t];
    m.set(dec.decode(name), {
      type,
      default: type === "string" ? dec.decode(d as Uint8Array) : type === "bool" ? d === 1 : d as number,
    });
  }
  catalog = m;
  return m;
}

function describe(v: unknown): string {
  return typeof v === "string" ? `the string "${v}"` : `${typeof v} ${String(v)}`;
}

/**
 * Checks every entry against libtorrent's setting types, strictly: a
 * boolean setting takes a boolean (not 0/1), an integer setting an integer
 * in the 32-bit range (not a boolean), a string setting a string.
 * @throws TorrentError UNKNOWN_SETTING, SETTING_TYPE
 * @internal
 */
export function checkSettingTypes(native: Native, settings: Record<string, unknown>, where: string): void {
  const cat = settingsCatalog(native);
  for (const [name, v] of Object.entries(settings)) {
    const e = cat.get(name);
    if (!e) throw new TorrentError("UNKNOWN_SETTING", `${where}: unknown setting '${name}'`);
    const ok = e.type === "bool"
      ? typeof v === "boolean"
      : e.type === "string"
      ? typeof v === "string"
      : typeof v === "number" && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;
    if (!ok) {
      const want = e.type === "bool" ? "a boolean" : e.type === "string" ? "a string" : "a 32-bit integer";
      throw new TorrentError("SETTING_TYPE", `${where}: setting '${name}' takes ${want}, not ${describe(v)}`);
    }
  }
}

/** Strictly checked settings → the shim's bencoded dictionary (booleans as 0/1). @internal */
export function encodeSettings(native: Native, settings: Record<string, SettingValue>, where: string): Uint8Array {
  checkSettingTypes(native, settings, where);
  const dict: Record<string, BValue> = {};
  for (const [k, v] of Object.entries(settings)) dict[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  return bencode(dict);
}

// libtorrent settings_pack enc_policy / enc_level values.
const PE_FORCED = 0, PE_ENABLED = 1, PE_DISABLED = 2;
const PE_RC4 = 2, PE_BOTH = 3;

/** The engine side a SessionSettings needs from its session. @internal */
export interface SettingsHost {
  native: Native;
  /** Reads settings (all when `names` is undefined) as name → raw value. */
  read(names?: string[]): Record<string, BDecoded>;
  /** Applies settings (the session's applySettings: isolation checks included). */
  apply(settings: Record<string, SettingValue>): void;
}

/**
 * A session's settings: `session.settings`. Every libtorrent setting by
 * name (libtorrent's settings_pack names), typed and validated.
 *
 * @example Read, change and list settings
 * ```ts
 * import { Session } from "./mod.ts";
 * await using session = await Session.open({ profile: "isolated" });
 * session.settings.set("upload_rate_limit", 100_000); // bytes/s
 * console.log(session.settings.get("upload_rate_limit")); // 100000
 * session.settings.setEncryption("forced");
 * console.log(session.settings.list().length); // every libtorrent setting
 * ```
 */
export class SessionSettings {
  readonly #host: SettingsHost;

  /** @internal Made by Session. */
  constructor(host: SettingsHost) {
    this.#host = host;
  }

  #typed(name: string, raw: BDecoded): SettingValue {
    const e = settingsCatalog(this.#host.native).get(name);
    if (e?.type === "bool") return raw === 1;
    if (e?.type === "string") return dec.decode(raw as Uint8Array);
    return raw as number;
  }

  /**
   * Every libtorrent setting with its type, current value and default, in
   * libtorrent's order (strings, integers, booleans).
   * @throws TorrentError SESSION_CLOSED
   */
  list(): SettingInfo[] {
    const raw = this.#host.read();
    const out: SettingInfo[] = [];
    for (const [name, e] of settingsCatalog(this.#host.native)) {
      out.push({ name, type: e.type, value: this.#typed(name, raw[name]), default: e.default });
    }
    return out;
  }

  /**
   * The current value of setting `name`: a boolean, an integer or a string
   * by the setting's type.
   * @throws TorrentError UNKNOWN_SETTING, INVALID_ARGUMENT (name not a string), SESSION_CLOSED
   */
  get(name: string): SettingValue {
    if (typeof name !== "string" || name === "") {
      throw new TorrentError("INVALID_ARGUMENT", "settings.get: the name must be a non-empty string");
    }
    if (!settingsCatalog(this.#host.native).has(name)) {
      throw new TorrentError("UNKNOWN_SETTING", `settings.get: unknown setting '${name}'`);
    }
    return this.#typed(name, this.#host.read([name])[name]);
  }

  /** The type of setting `name`, or undefined when libtorrent has none of that name. */
  typeOf(name: string): SettingType | undefined {
    return settingsCatalog(this.#host.native).get(name)?.type;
  }

  /**
   * Sets one setting, or several at once (`set({ name: value, … })`, all or
   * nothing). Types are strict: booleans for boolean settings, 32-bit
   * integers for integer settings, strings for string settings.
   * @throws TorrentError UNKNOWN_SETTING, SETTING_TYPE, INVALID_ARGUMENT, SESSION_CLOSED
   */
  set(name: string, value: SettingValue): void;
  /** Sets several settings at once, all or nothing. */
  set(settings: Record<string, SettingValue>): void;
  set(a: string | Record<string, SettingValue>, value?: SettingValue): void {
    let batch: Record<string, SettingValue>;
    if (typeof a === "string") {
      if (a === "") throw new TorrentError("INVALID_ARGUMENT", "settings.set: the name must be a non-empty string");
      batch = { [a]: value as SettingValue };
    } else if (a !== null && typeof a === "object" && !Array.isArray(a)) {
      batch = a;
    } else {
      throw new TorrentError("INVALID_ARGUMENT", "settings.set: give a name and a value, or an object of settings");
    }
    checkSettingTypes(this.#host.native, batch, "settings.set");
    this.#host.apply(batch);
  }

  /**
   * Sets the peer-connection encryption policy (BEP 8 message stream
   * encryption), both directions:
   * - `"forced"`: only encrypted connections, RC4 for the whole stream
   *   (out_enc_policy = in_enc_policy = pe_forced, allowed_enc_level = pe_rc4);
   * - `"enabled"`: encrypted when the other side wants it, either level
   *   (pe_enabled, pe_both) — libtorrent's default;
   * - `"disabled"`: plaintext only (pe_disabled, pe_both).
   * @throws TorrentError INVALID_ARGUMENT, SESSION_CLOSED
   */
  setEncryption(policy: EncryptionPolicy): void {
    const presets: Record<EncryptionPolicy, [number, number]> = {
      forced: [PE_FORCED, PE_RC4],
      enabled: [PE_ENABLED, PE_BOTH],
      disabled: [PE_DISABLED, PE_BOTH],
    };
    const p = Object.hasOwn(presets, policy) ? presets[policy] : undefined;
    if (!p) {
      throw new TorrentError(
        "INVALID_ARGUMENT",
        `settings.setEncryption: policy must be "forced", "enabled" or "disabled", not ${describe(policy)}`,
      );
    }
    this.#host.apply({ out_enc_policy: p[0], in_enc_policy: p[0], allowed_enc_level: p[1] });
  }

  /**
   * The encryption policy in effect: one of the presets of
   * {@link setEncryption}, or `"custom"` when the three settings were set
   * to some other combination.
   * @throws TorrentError SESSION_CLOSED
   */
  get encryption(): EncryptionPolicy | "custom" {
    const r = this.#host.read(["out_enc_policy", "in_enc_policy", "allowed_enc_level"]);
    const out = r.out_enc_policy, inn = r.in_enc_policy, level = r.allowed_enc_level;
    if (out !== inn) return "custom";
    if (out === PE_FORCED && level === PE_RC4) return "forced";
    if (out === PE_ENABLED && level === PE_BOTH) return "enabled";
    if (out === PE_DISABLED) return "disabled";
    return "custom";
  }
}
