// Nebula Command dashboard entry point.
import { askForKey, clearKey, loadKey, socketUrl, takeKeyFromFragment, verifyKey } from "./js/auth.js";
import { HostDashboard } from "./js/cards.js";
import { Connection } from "./js/connection.js";
import * as fmt from "./js/format.js";

const $ = (id) => document.getElementById(id);

const ui = {
  conn: $("conn"),
  connLabel: $("conn-label"),
  connAnnounce: $("conn-announce"),
  form: $("key-form"),
  host: $("host"),
  hostId: $("host-id"),
  hostname: $("hostname"),
  updated: $("updated"),
  grid: $("host-grid"),
  changeKey: $("change-key"),
};

let connection = null;
let dashboard = null;
let connState = { state: "connecting" };
let ticker = null;

// ---- connection indicator ----------------------------------------------------

function renderIndicator() {
  const { state, retryAt } = connState;
  let label;
  let announce;
  if (state === "live") {
    label = "Live";
    announce = "Live: receiving updates";
  } else if (state === "reconnecting") {
    const secs = Math.ceil(((retryAt ?? 0) - Date.now()) / 1000);
    label = secs >= 1 ? `Reconnecting in ${secs} s…` : "Reconnecting…";
    announce = "Connection lost. Reconnecting";
  } else if (state === "offline") {
    label = "Offline";
    announce = "Offline: updates paused";
  } else {
    label = "Connecting…";
    announce = "Connecting";
  }
  ui.conn.dataset.state = state === "connecting" ? "reconnecting" : state;
  ui.host.dataset.conn = state;
  if (ui.connLabel.textContent !== label) ui.connLabel.textContent = label;
  // Only state changes are announced, not every countdown tick.
  if (ui.connAnnounce.textContent !== announce) ui.connAnnounce.textContent = announce;
}

// ---- "updated 12 s ago" --------------------------------------------------------

function renderUpdated() {
  if (!dashboard || !dashboard.last) return;
  const age = dashboard.age();
  ui.updated.textContent = `Updated ${fmt.ago(age)}`;
  // Stale when no sample arrived for a while (interval defaults to 30 s).
  ui.updated.dataset.stale = String(age > 90000 || connState.state !== "live");
}

function tick() {
  renderIndicator();
  renderUpdated();
}

// ---- startup ---------------------------------------------------------------------

function showDashboard() {
  ui.form.hidden = true;
  ui.host.hidden = false;
  ui.changeKey.hidden = false;
  if (!dashboard) dashboard = new HostDashboard(ui.grid);
}

async function obtainKey(error) {
  ui.host.hidden = true;
  ui.changeKey.hidden = true;
  connState = { state: "offline" };
  renderIndicator();
  return askForKey(ui.form, error);
}

async function start() {
  let key = takeKeyFromFragment() || loadKey();
  if (!key) key = await obtainKey();

  // Verify before connecting: a 401 in the WebSocket handshake is invisible.
  for (;;) {
    connState = { state: "connecting" };
    renderIndicator();
    const verdict = await verifyKey(key);
    if (verdict !== "unauthorized") break;
    clearKey();
    key = await obtainKey("That key was refused");
  }

  showDashboard();
  connect(key);
}

function connect(key) {
  if (connection) connection.stop("replaced");
  connection = new Connection({
    url: () => socketUrl(key),
    authorize: () => verifyKey(key),
  });
  window.__nebula = { connection, dashboard }; // handy in devtools and tests

  connection.addEventListener("state", (ev) => {
    connState = ev.detail;
    tick();
  });
  connection.addEventListener("unauthorized", async () => {
    clearKey();
    const next = await obtainKey("That key was refused");
    showDashboard();
    connect(next);
  });

  const seen = []; // recent offsets, for devtools and the browser tests
  window.__nebula.offsets = seen;
  connection.subscribe("telemetry.host", {
    onPublication(data, pub) {
      seen.push(pub.offset);
      if (seen.length > 200) seen.shift();
      dashboard.update(data);
      if (typeof data.hostname === "string" && data.hostname) {
        if (ui.hostname.textContent !== data.hostname) {
          ui.hostname.textContent = data.hostname;
          ui.hostname.title = data.hostname;
          document.title = `${data.hostname} · Nebula Command`;
        }
        ui.hostId.hidden = false;
      }
      renderUpdated();
    },
    onError(err) {
      console.error("nebula: telemetry.host", err);
      ui.updated.textContent = `Host telemetry unavailable: ${err.message}`;
    },
  });
  connection.start();
}

ui.changeKey.addEventListener("click", async () => {
  if (connection) connection.stop("key change");
  connection = null;
  clearKey();
  const key = await obtainKey();
  showDashboard();
  connect(key);
});

ticker = setInterval(tick, 1000);
start();
