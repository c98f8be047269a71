/**
 * TorrentXT: the full BitTorrent protocol for TypeScript on Deno and Bun,
 * on libtorrent-rasterbar 2.0.
 *
 * @example Seed and download on loopback
 * ```ts
 * import { createTorrent, Session } from "./mod.ts";
 * const made = await createTorrent({ path: "./folder" });
 * await using seeder = await Session.open({ profile: "isolated" });
 * await seeder.add({ torrent: made.torrent, savePath: "." });
 * await using leecher = await Session.open({ profile: "isolated" });
 * const t = await leecher.add({ magnet: made.magnet, savePath: "./out" });
 * t.connectPeer("127.0.0.1", seeder.listenPort);
 * for await (const ev of leecher.events()) {
 *   if (ev.type === "torrent_finished" && ev.torrent === t) break;
 * }
 * ```
 *
 * @module
 */
export {
  type AddOptions,
  Session,
  type SessionOptions,
  type SettingValue,
  THROUGHPUT_SETTINGS,
} from "./src/session.ts";
export { type InfoHash, Torrent, type TorrentStatus } from "./src/torrent.ts";
export { type CreatedTorrent, createTorrent, type CreateTorrentOptions } from "./src/create.ts";
export { type ErrorCode, TorrentError } from "./src/errors.ts";
export { readResumeFile, writeResumeFile } from "./src/resume_file.ts";
export type {
  AddFlags,
  CloseOptions,
  MovePolicy,
  Priority,
  ReannounceOptions,
  SaveAllOptions,
  SavedResumeData,
  SettableFlags,
  TorrentFlags,
  TrackerEndpoint,
  TrackerEntry,
  TrackerInfo,
  TrackerStatus,
} from "./src/control.ts";
export {
  IP_RANGE_RECORD_SIZE,
  type IpAccess,
  IpFilter,
  type IpRange,
  type IpRangeRecord,
  packIpRanges,
} from "./src/ipfilter.ts";
export {
  createDhtKeypair,
  Dht,
  type DhtImmutableItem,
  type DhtImmutablePut,
  type DhtKeypair,
  type DhtMutableItem,
  type DhtMutablePut,
  type DhtMutablePutOptions,
  type DhtSignedItem,
  type DhtStats,
  type DhtWaitOptions,
  verifyMutableItem,
} from "./src/dht.ts";
export { bdecode, type BDecoded, bencode, type BValue } from "./src/bencode.ts";
export {
  type About,
  ALERT_TYPES,
  type EventFields,
  type EventFilter,
  type EventOf,
  EventStream,
  type EventStreamOptions,
  type EventType,
  type NotAbout,
  SYNTHETIC_TYPES,
  type TorrentEvent,
  type TorrentState,
} from "./src/events.ts";
export { type EncryptionPolicy, SessionSettings, type SettingInfo, type SettingType } from "./src/settings.ts";
export { type SessionStats } from "./src/stats.ts";
export { type FileEntry, type PeerFlags, type PeerInfo, type PeerSource, PieceSet } from "./src/inspect.ts";
export { type FilesOptions } from "./src/torrent.ts";
export { StatusRecord } from "./src/_status.ts";
export { type Attached, type Plugin, type PluginInstance } from "./src/plugin.ts";
