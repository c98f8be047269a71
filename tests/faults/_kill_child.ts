// Child process of kill.test.ts, run by the same runtime as the test. One
// JSON line per fact on stdout. Modes (env FAULT_CHILD, JSON):
//  - "download": adds the torrent (from the resume file when there is one),
//    reports the pieces the restart claims, force-rechecks and reports the
//    pieces that pass, connects to the seeder and saves the resume file
//    every `saveEveryMs` with writeResumeFile() until killed — or, with
//    `finish`, until the download is done (then exits 0).
//  - "writer": rewrites `resumePath` with writeResumeFile() in a loop,
//    each version a self-checking blob (see kill.test.ts), until killed.
import { createHash, randomBytes } from "node:crypto";
import process from "node:process";
import { readResumeFile, Session, type TorrentEvent, writeResumeFile } from "../../mod.ts";

interface Args {
  mode: "download" | "writer";
  torrentFile: string;
  savePath: string;
  resumePath: string;
  seederPort: number;
  saveEveryMs: number;
  finish: boolean;
  blobSize: number;
}
const args = JSON.parse(process.env.FAULT_CHILD ?? "{}") as Args;
const line = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + "\n");

function bits(set: { count: number; has(i: number): boolean }): number[] {
  const out: number[] = [];
  for (let i = 0; i < set.count; i++) if (set.has(i)) out.push(i);
  return out;
}

async function download(): Promise<void> {
  const session = await Session.open({ profile: "isolated" });
  const events = session.events({
    types: ["torrent_checked", "torrent_finished", "hash_failed", "torrent_error", "file_error"],
  });
  const resume = readResumeFile(args.resumePath);
  const t = resume
    ? await session.add({ resume })
    : await session.add({ torrentFile: args.torrentFile, savePath: args.savePath });
  line({ ev: "added", fromResume: resume !== undefined });
  const next = async (pred: (ev: TorrentEvent) => boolean) => {
    for (;;) {
      const r = await events.next();
      if (r.done) throw new Error("event stream ended");
      const ev = r.value;
      if (ev.type === "hash_failed") line({ ev: "hash_failed", piece: ev.piece });
      if (ev.type === "torrent_error" || ev.type === "file_error") line({ ev: ev.type, message: ev.message });
      if (pred(ev)) return ev;
    }
  };
  await next((ev) => ev.type === "torrent_checked");
  const claimed = bits(t.pieces());
  line({ ev: "claimed", pieces: claimed, count: t.status().pieceCount });
  t.forceRecheck();
  await next((ev) => ev.type === "torrent_checked");
  line({ ev: "verified", pieces: bits(t.pieces()) });

  let saving = false;
  const save = async () => {
    if (saving) return;
    saving = true;
    try {
      for (const r of await session.saveAllResumeData()) {
        if (r.resumeData) writeResumeFile(args.resumePath, r.resumeData);
      }
      line({ ev: "saved", pieces: t.status().numPieces });
    } finally {
      saving = false;
    }
  };
  await save();
  const timer = setInterval(
    () => void save().catch((e) => line({ ev: "save_error", message: String(e) })),
    args.saveEveryMs,
  );
  t.connectPeer("127.0.0.1", args.seederPort);
  if (!t.status().isFinished) await next((ev) => ev.type === "torrent_finished");
  line({ ev: "finished" });
  if (!args.finish) return; // stays up (the timer saves) until killed
  clearInterval(timer);
  await t.flushCache();
  while (saving) await new Promise((r) => setTimeout(r, 10));
  await t.saveResumeFile(args.resumePath);
  await session.close();
  line({ ev: "done" });
}

function writer(): void {
  // Each version: 32-byte SHA-256 of the rest, 8-byte serial, random body.
  let n = 0;
  const body = randomBytes(args.blobSize);
  for (;;) {
    n++;
    body.writeUInt32LE(n, 0);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(n, 0);
    const rest = Buffer.concat([head, body]);
    const digest = createHash("sha256").update(rest).digest();
    writeResumeFile(args.resumePath, Buffer.concat([digest, rest]));
    if (n === 1) line({ ev: "first" });
  }
}

try {
  if (args.mode === "writer") writer();
  else await download();
} catch (e) {
  line({ ev: "error", message: String((e as Error)?.stack ?? e) });
  process.exit(3);
}
