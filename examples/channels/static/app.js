// TorrentXT Channels: renders the app's state from the server's event
// stream; every action is a POST to the JSON API. Every name and text from
// the network is set with textContent (never parsed as HTML).
import { qrSvg } from "./qr.js";

const $ = (s) => document.querySelector(s);
let current = null;
const busy = new Set();

const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const k of kids) if (k != null) e.append(k);
  return e;
};
const fmtBytes = (n) => {
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
};
const fmtRate = (n) => (n > 0 ? `${fmtBytes(n)}/s` : "–");
const fmtTime = (t) => (t > 0 ? new Date(t * 1000).toLocaleString() : "");
const shortAddr = (a) => {
  const m = /btpk:([0-9a-f]{64})/.exec(a);
  return m ? `${m[1].slice(0, 8)}…${m[1].slice(-6)}` : a;
};

// What an error code means, in plain words.
const HINTS = {
  INVALID_CHANNEL_ADDRESS: "That is not a channel address. A channel address starts with magnet:?xs=urn:btpk: " +
    "followed by 64 letters and digits — ask its owner to copy it again.",
  PATH_NOT_FOUND: "There is no file or folder at that path on this computer.",
  TIMEOUT: "No answer from the network in time. Check the DHT status at the top and try again.",
  ENGINE: "The network did not take it (is the DHT connected?).",
};
function notice(text, kind = "info") {
  const n = $("#notice");
  n.textContent = text;
  n.className = kind;
  n.setAttribute("role", kind === "error" ? "alert" : "status");
}
// The error line under the form that failed (cleared by the next success).
function formError(form, code, message) {
  const box = form && $(`#${form}-error`);
  if (!box) return;
  box.hidden = code === null;
  if (code === null) return box.replaceChildren();
  box.replaceChildren(
    el("b", { textContent: HINTS[code] ?? message }),
    el("span", { className: "detail", textContent: ` ${code}: ${message}` }),
  );
}

async function post(path, body = {}, form = null) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({ error: { code: "INTERNAL", message: `HTTP ${r.status}` } }));
  if (!r.ok) {
    const { code, message } = j.error;
    notice(`${HINTS[code] ?? message} (${code})`, "error");
    formError(form, code, message);
    const err = new Error(message);
    err.code = code;
    throw err;
  }
  formError(form, null);
  return j;
}

// Runs `fn` with `button` disabled and a label while it works.
async function working(button, label, fn) {
  const old = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await fn();
  } catch {
    return undefined; // shown by post()
  } finally {
    button.disabled = false;
    button.textContent = old;
  }
}

async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    notice(`${what} copied to the clipboard.`);
  } catch {
    // No clipboard permission: select it so Ctrl+C copies it.
    notice(`Select and copy the ${what.toLowerCase()} by hand (the clipboard is not available here).`);
  }
}

function releaseItem(r, { latest, have, address }) {
  const li = el("li", { className: "release" });
  li.dataset.ih = r.infoHash;
  li.append(el("span", { className: "rel-name", textContent: r.name || r.infoHash, title: r.infoHash }));
  if (latest) li.append(el("span", { className: "badge", textContent: "latest" }));
  li.append(el("span", { className: "muted", textContent: `#${r.seq} ${fmtTime(r.time)}` }));
  if (address) {
    const state = have?.[r.infoHash] ?? "none";
    li.dataset.have = state;
    if (state === "none" || state === "paused") {
      const key = `${address} ${r.infoHash}`;
      const b = el("button", {
        className: "download",
        textContent: busy.has(key) ? "Starting…" : "Download",
        disabled: busy.has(key),
        onclick: async () => {
          busy.add(key);
          await working(b, "Starting…", () => post("/api/download", { address, infoHash: r.infoHash }));
          busy.delete(key);
        },
      });
      li.append(b);
    } else {
      li.append(
        el("span", { className: `have ${state}`, textContent: state === "done" ? "✓ downloaded" : "downloading" }),
      );
    }
  }
  return li;
}

function renderMe(me) {
  $("#my-name").textContent = me.name || "Unnamed channel";
  if ($("#my-address").textContent !== me.address) {
    $("#my-address").textContent = me.address;
    $("#qr").replaceChildren(qrSvg(document, me.address));
    $("#qr").dataset.text = me.address;
  }
  if (document.activeElement !== $("#name-input")) $("#name-input").value = me.name;
  $("#my-feed").replaceChildren(...me.releases.map((r, i) => releaseItem(r, { latest: i === 0 })));
  $("#my-feed-empty").hidden = me.releases.length > 0;
}

function renderFollowing(list) {
  const box = $("#channels");
  const cards = list.map((f) => {
    const card = el("article", { className: "channel" });
    card.dataset.address = f.address;
    const status = f.error
      ? el("span", { className: "status error", textContent: `⚠ ${HINTS[f.error.code] ?? f.error.message}` })
      : el("span", {
        className: "status",
        textContent: f.status === "looking" ? "looking it up on the DHT…" : `release #${f.seq}`,
      });
    const head = el(
      "div",
      { className: "channel-head" },
      el("b", { className: "channel-name", textContent: f.name }),
      el("code", { className: "muted", textContent: shortAddr(f.address), title: f.address }),
      status,
      el("span", { className: "spacer" }),
      el("button", {
        textContent: "Check now",
        className: "refresh",
        onclick: (e) => working(e.target, "Checking…", () => post("/api/refresh", { address: f.address })),
      }),
      el("button", {
        textContent: "Unfollow",
        className: "unfollow",
        onclick: () => post("/api/unfollow", { address: f.address }),
      }),
    );
    const feed = el(
      "ol",
      { className: "feed" },
      ...f.feed.map((r, i) => releaseItem(r, { latest: i === 0, have: f.have, address: f.address })),
    );
    card.append(head, f.feed.length ? feed : el("p", { className: "muted", textContent: "No release found yet." }));
    return card;
  });
  box.replaceChildren(...cards);
  $("#channels-empty").hidden = list.length > 0;
}

function renderTransfers(rows, following) {
  const names = new Map(following.map((f) => [f.address, f.name]));
  const tbody = $("#transfers tbody");
  tbody.replaceChildren(
    ...rows.map((t) => {
      const pct = (t.progress * 100).toFixed(1);
      const bar = el("span", { className: "bar" }, el("span"));
      bar.firstChild.style.width = `${pct}%`;
      const tr = el(
        "tr",
        { title: t.error ?? t.savePath },
        el("td", { className: "name", textContent: t.name }),
        el("td", { textContent: t.channel === "mine" ? "yours" : names.get(t.channel) ?? shortAddr(t.channel) }),
        el("td", {}, bar, el("span", { className: "pct", textContent: `${pct} %` })),
        el("td", { className: "state", textContent: t.state.replaceAll("_", " ") }),
        el("td", { textContent: fmtRate(t.downloadRate) }),
        el("td", { textContent: fmtRate(t.uploadRate) }),
        el("td", { textContent: String(t.numPeers) }),
        el("td", { textContent: t.totalSize ? fmtBytes(t.totalSize) : "?" }),
      );
      tr.dataset.id = t.id;
      tr.dataset.state = t.state;
      return tr;
    }),
  );
  $("#transfers-empty").hidden = rows.length > 0;
}

function render(s) {
  // A first visit (nothing published or followed yet) opens "What is this?".
  if (current === null && s.me.releases.length === 0 && s.following.length === 0) $("#about").hidden = false;
  current = s;
  renderMe(s.me);
  renderFollowing(s.following);
  renderTransfers(s.transfers, s.following);
}

$("#about-toggle").onclick = () => {
  $("#about").hidden = !$("#about").hidden;
};
$("#name-form").onsubmit = async (e) => {
  e.preventDefault();
  await post("/api/name", { name: $("#name-input").value }, "name");
  $("#name-input").blur();
  notice("Name saved: the address now carries it, so followers see it.");
};
$("#copy-address").onclick = () => current && copy(current.me.address, "Address");
$("#publish-form").onsubmit = async (e) => {
  e.preventDefault();
  const path = $("#publish-path").value.trim();
  if (!path) return notice("Type the path of a folder or file to publish.", "error");
  const r = await working($("#publish-button"), "Publishing…", () => {
    notice("Publishing: making the torrent, then signing and announcing it…");
    return post("/api/publish", { path, name: $("#publish-name").value }, "publish");
  });
  if (!r) return;
  $("#publish-path").value = "";
  $("#publish-name").value = "";
  notice(
    r.numSuccess > 0
      ? `Published as release #${r.seq}. Followers will see it within a minute.`
      : `Published as release #${r.seq}, but no DHT node stored it yet — is the DHT connected?`,
    r.numSuccess > 0 ? "info" : "error",
  );
};
$("#follow-form").onsubmit = async (e) => {
  e.preventDefault();
  const address = $("#follow-input").value.trim();
  if (!address) return notice("Paste a channel address first.", "error");
  const r = await working($("#follow-button"), "Following…", () => post("/api/follow", { address }, "follow"));
  if (!r) return;
  $("#follow-input").value = "";
  notice("Following. Its releases appear below as soon as the DHT answers.");
};
$("#drop-form").onsubmit = async (e) => {
  e.preventDefault();
  const text = $("#drop-text").value;
  if (!text) return notice("Type a note to pin.", "error");
  const r = await working($("#drop-button"), "Pinning…", () => post("/api/drop", { text }, "drop"));
  if (!r) return;
  $("#drop-code").textContent = r.code;
  $("#drop-result").hidden = false;
  notice("Pinned. Give the code to whoever should read it (it lasts about two hours).");
};
$("#copy-code").onclick = () => copy($("#drop-code").textContent, "Code");
$("#pickup-form").onsubmit = async (e) => {
  e.preventDefault();
  const code = $("#pickup-code").value.trim();
  if (!code) return notice("Paste a drop code first.", "error");
  const r = await working($("#pickup-button"), "Looking…", () => post("/api/pickup", { code }, "pickup"));
  if (!r) return;
  const out = $("#pickup-text");
  out.hidden = false;
  if (r.text === null) {
    out.textContent = "";
    out.hidden = true;
    notice("Nothing found under that code (drops last about two hours).", "error");
  } else {
    out.textContent = r.text;
    notice("Got it.");
  }
};

async function refreshDht() {
  try {
    const j = await (await fetch("/api/dht")).json();
    const d = $("#dht");
    d.textContent = j.nodes == null ? "DHT: no answer" : `DHT: ${j.nodes} node${j.nodes === 1 ? "" : "s"}`;
    d.dataset.nodes = String(j.nodes ?? 0);
    d.className = `pill ${j.nodes > 0 ? "ok" : "warn"}`;
  } catch {
    // the app stopped
  }
}

const es = new EventSource("/api/stream");
es.addEventListener("state", (e) => render(JSON.parse(e.data)));
es.addEventListener("bye", () => {
  es.close();
  notice("The app stopped.", "error");
});
refreshDht();
setInterval(refreshDht, 3000);
