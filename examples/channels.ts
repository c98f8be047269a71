/**
 * BEP 46 channels on a private DHT of four sessions on loopback.
 *
 * 1. four isolated sessions ping each other: a DHT of their own;
 * 2. the owner publishes a folder on a channel (created, seeded, signed item
 *    `{ ih }` stored on the DHT);
 * 3. a fan follows the channel's address and downloads the release;
 * 4. the owner publishes a second release; the fan switches to it;
 * 5. quick drop: a text by a 40-character code.
 *
 * Nothing leaves the machine: every session uses the isolated profile.
 *
 *   deno run -A --config deno.json examples/channels.ts
 *   bun run examples/channels.ts
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDhtKeypair, Session } from "../mod.ts";
import { channels } from "../plugins/channels/mod.ts";

const root = mkdtempSync(join(tmpdir(), "torrentxt-channels-"));
const nodes: Session[] = [];
try {
  // 1. A private DHT: each node pings the others (an answer puts the node in the routing table).
  for (let i = 0; i < 4; i++) nodes.push(await Session.open({ profile: "isolated" }));
  await Promise.all(
    nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => a.dht.ping(`127.0.0.1:${b.listenPort}`))),
  );
  const [owner, fan] = nodes;

  // 2. The owner's channel: a key pair (keep keys.seed to publish again later) and a salt.
  const keys = await createDhtKeypair();
  const pub = await owner.use(channels());
  const release = (name: string, text: string) => {
    mkdirSync(join(root, "owner", name), { recursive: true });
    writeFileSync(join(root, "owner", name, "notes.txt"), text.repeat(5000));
    return join(root, "owner", name);
  };
  const r1 = await pub.publish(release("episode-1", "one "), { keys, salt: "podcast" });
  console.log(`published seq ${r1.seq}: ${r1.infoHash} on ${r1.address}`);

  // 3. The fan follows the address.
  const sub = await fan.use(channels());
  const follower = sub.follow(r1.address, { savePath: join(root, "fan"), pollIntervalMs: 500 });
  let published = false;
  for await (const update of follower) {
    const done = fan.events({ types: ["torrent_finished"] });
    if (!update.torrent.status().isFinished) {
      for await (const ev of done) if (ev.torrent === update.torrent) break;
    } else await done.return();
    console.log(
      `seq ${update.seq}: downloaded ${update.torrent.status().name}; feed: ${update.feed.map((r) => r.name)}`,
    );
    if (published) break; // leaving the loop stops following
    // 4. A second release: the follower picks it up on its next lookup.
    const r2 = await pub.publish(release("episode-2", "two "), { keys, salt: "podcast" });
    console.log(`published seq ${r2.seq}: ${r2.infoHash}`);
    published = true;
  }

  // 5. Quick drop.
  const code = await pub.drop("see you at 8");
  console.log(`drop ${code} → ${await sub.pickup(code)}`);
} finally {
  await Promise.all(nodes.map((n) => n.close()));
  rmSync(root, { recursive: true, force: true });
}
