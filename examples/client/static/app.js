// TorrentXT web client: renders the live table from the server's event
// stream; every control is a POST to the JSON API.
const $ = (s) => document.querySelector(s);
const rows = new Map();
let selected = null;
let tab = "files";

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
const fmtEta = (
  s,
) => (s == null ? "∞" : s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`);
const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const k of kids) e.append(k);
  return e;
};
function notice(text) {
  $("#notice").textContent = text;
}

async function post(path, body = {}) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const j = await r.json();
  if (!r.ok) {
    notice(`${j.error.code}: ${j.error.message}`);
    throw new Error(j.error.message);
  }
  return j;
}

function button(label, action, id, body) {
  return el("button", {
    textContent: label,
    title: label,
    className: `act-${action}`,
    onclick: (e) => {
      e.stopPropagation();
      post(`/api/t/${id}/${action}`, body);
    },
  });
}

function render(list) {
  const tbody = $("#torrents tbody");
  const seen = new Set();
  list.sort((a, b) => (a.queuePosition < 0 ? 1e9 : a.queuePosition) - (b.queuePosition < 0 ? 1e9 : b.queuePosition));
  for (const t of list) {
    seen.add(t.id);
    let tr = rows.get(t.id);
    if (!tr) {
      tr = el("tr");
      tr.dataset.id = t.id;
      tr.onclick = () => {
        selected = t.id;
        showDetails();
      };
      rows.set(t.id, tr);
    }
    tbody.append(tr); // keeps queue order
    tr.dataset.state = t.state;
    tr.classList.toggle("selected", selected === t.id);
    const pct = (t.progress * 100).toFixed(1);
    const bar = el("span", { className: "bar" }, el("span"));
    bar.firstChild.style.width = `${pct}%`;
    tr.replaceChildren(
      el("td", { textContent: t.queuePosition >= 0 ? String(t.queuePosition + 1) : "" }),
      el("td", { className: "name", textContent: t.name, title: t.error ?? t.name }),
      el("td", {}, bar, el("span", { className: "pct", textContent: `${pct} %` })),
      el("td", { className: "state", textContent: t.state.replaceAll("_", " ") }),
      el("td", { textContent: fmtRate(t.downloadRate) }),
      el("td", { textContent: fmtRate(t.uploadRate) }),
      el("td", { textContent: String(t.numPeers) }),
      el("td", { textContent: t.progress >= 1 ? "done" : fmtEta(t.eta) }),
      el(
        "td",
        {},
        t.paused ? button("Resume", "resume", t.id) : button("Pause", "pause", t.id),
        button("Recheck", "recheck", t.id),
        button("Reannounce", "reannounce", t.id),
        button("▲", "queue-up", t.id),
        button("▼", "queue-down", t.id),
        button(t.sequential ? "Sequential ✓" : "Sequential", "sequential", t.id, { on: !t.sequential }),
        button("Remove", "remove", t.id),
        button("Remove + data", "remove", t.id, { deleteFiles: true }),
      ),
    );
  }
  for (const [id, tr] of rows) {
    if (!seen.has(id)) {
      tr.remove();
      rows.delete(id);
    }
  }
  if (selected && rows.has(selected)) showDetails();
}

async function showDetails() {
  if (!selected) return;
  const r = await fetch(`/api/t/${selected}`);
  if (!r.ok) {
    $("#details").hidden = true;
    return;
  }
  const d = await r.json();
  $("#details").hidden = false;
  $("#details-name").textContent = d.name;
  const body = $("#details-body");
  if (tab === "files") {
    body.replaceChildren(
      el(
        "table",
        {},
        ...d.files.map((f) =>
          el(
            "tr",
            {},
            el("td", { textContent: f.path }),
            el("td", { textContent: fmtBytes(f.size) }),
            el("td", { textContent: `${(f.size ? (100 * f.progress) / f.size : 100).toFixed(0)} %` }),
            el(
              "td",
              {},
              (() => {
                const s = el("select", {
                  onchange: () => post(`/api/t/${d.id}/priority`, { file: f.index, priority: Number(s.value) }),
                });
                for (const [v, n] of [[0, "skip"], [1, "low"], [4, "normal"], [7, "high"]]) {
                  s.append(el("option", { value: String(v), textContent: n, selected: f.priority === v }));
                }
                return s;
              })(),
            ),
          )
        ),
      ),
    );
  } else if (tab === "peers") {
    body.replaceChildren(
      el(
        "table",
        {},
        ...d.peers.map((p) =>
          el(
            "tr",
            {},
            el("td", { textContent: p.address }),
            el("td", { textContent: p.client }),
            el("td", { textContent: fmtRate(p.downloadRate) }),
            el("td", { textContent: fmtRate(p.uploadRate) }),
            el("td", { textContent: `${(p.progress * 100).toFixed(0)} %` }),
          )
        ),
      ),
    );
  } else if (tab === "trackers") {
    body.replaceChildren(
      el(
        "ul",
        {},
        ...d.trackers.map((t) => el("li", { textContent: `tier ${t.tier}: ${t.url}` })),
        ...d.webSeeds.map((w) => el("li", { textContent: `web seed: ${w}` })),
      ),
    );
  } else {
    const p = el("div", { className: "pieces" });
    if (d.pieces) {
      for (const b of d.pieces.bits.slice(0, 4000)) p.append(el("i", { className: b === "1" ? "have" : "" }));
    }
    body.replaceChildren(
      el("p", { textContent: d.pieces ? `${d.pieces.have} of ${d.pieces.count} pieces` : "no metadata yet" }),
      p,
    );
  }
}

for (const b of document.querySelectorAll("nav button")) {
  b.onclick = () => {
    tab = b.dataset.tab;
    showDetails();
  };
}

$("#add-form").onsubmit = async (e) => {
  e.preventDefault();
  const input = $("#add-input").value.trim();
  if (!input) return;
  await post("/api/add", { input });
  $("#add-input").value = "";
  notice("added");
};
$("#add-file").onchange = async () => {
  const f = $("#add-file").files[0];
  if (!f) return;
  const bytes = new Uint8Array(await f.arrayBuffer());
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  await post("/api/add", { torrentBase64: btoa(bin) });
  notice(`added ${f.name}`);
};
$("#create-form").onsubmit = async (e) => {
  e.preventDefault();
  const r = await post("/api/create", { path: $("#create-path").value });
  notice(`seeding — magnet: ${r.magnet}`);
};
$("#dht-form").onsubmit = async (e) => {
  e.preventDefault();
  await post("/api/dht/bootstrap", { node: $("#dht-node").value });
  refreshDht();
};
async function refreshDht() {
  const r = await fetch("/api/dht");
  const j = await r.json();
  $("#dht").textContent = j.stats ? `${j.stats.nodes ?? 0} nodes` : "off";
}

const es = new EventSource("/api/stream");
es.addEventListener("torrents", (e) => render(JSON.parse(e.data)));
es.addEventListener("log", (e) => {
  const li = el("li", { textContent: JSON.parse(e.data) });
  $("#log").prepend(li);
  while ($("#log").children.length > 200) $("#log").lastChild.remove();
});
refreshDht();
setInterval(refreshDht, 10000);
