// Nebula Command dashboard entry point: decides how this visit signs in,
// then runs the signed-in app (live connection, pages, top bar).
//
// Start-up order: a `#setup=` link (create the first admin), an API key
// (`#token=` or one kept for this tab), then the session cookie
// (`/api/v1/auth/me`); without one, the login page or, before the first
// account exists, a page explaining where the setup link comes from.

import { AlertStore } from "./js/alerts-store.js";
import * as api from "./js/api.js";
import { clearKey, loadKey, saveKey, socketUrl, takeKeyFromFragment, verifyKey } from "./js/auth.js";
import { HostDashboard } from "./js/cards.js";
import { Connection } from "./js/connection.js";
import { ContainerStore } from "./js/containers-store.js";
import { closeAll } from "./js/dialog.js";
import * as fmt from "./js/format.js";
import { NoticesPanel } from "./js/notices.js";
import { AccountPage } from "./js/pages/account.js";
import { AlertsPage } from "./js/pages/alerts.js";
import { AuditPage } from "./js/pages/audit.js";
import { ContainerPage } from "./js/pages/container.js";
import { ContainersPage } from "./js/pages/containers.js";
import { JarvisPage } from "./js/pages/jarvis.js";
import { KeysPage } from "./js/pages/keys.js";
import { StoragePage } from "./js/pages/storage.js";
import { UsersPage } from "./js/pages/users.js";
import * as router from "./js/router.js";
import * as session from "./js/session.js";
import { SignIn } from "./js/signin.js";
import { refreshTimes } from "./js/timeago.js";

const $ = (id) => document.getElementById(id);

const ui = {
  boot: $("boot"),
  conn: $("conn"),
  connLabel: $("conn-label"),
  connAnnounce: $("conn-announce"),
  host: $("host"),
  hostId: $("host-id"),
  hostname: $("hostname"),
  updated: $("updated"),
  grid: $("host-grid"),
  nav: $("nav"),
  who: $("who"),
  whoName: $("who-name"),
  whoRole: $("who-role"),
  signOut: $("sign-out"),
  changeKey: $("change-key"),
};

const SESSION_ENDED = "Your session ended; sign in again.";

/** "session" (an account), "key" (an API key) or null (signing in). */
let mode = null;
let connection = null;
let dashboard = null;
let connState = { state: "connecting" };
let ticks = 0;
let shownPage = null;

const notices = new NoticesPanel($("notices"));
// Followed for the whole visit: the sparklines keep their recent past and the nav badge its count.
const containerStore = new ContainerStore();
const alertStore = new AlertStore();
const alertsCount = $("alerts-count");
alertStore.addEventListener("change", () => {
  const n = alertStore.firing.size;
  alertsCount.hidden = n === 0;
  alertsCount.textContent = String(n);
  alertsCount.title = `${n} alert${n === 1 ? "" : "s"} firing`;
});
const pages = {
  account: new AccountPage($("page-account"), { signOutEverywhere }),
  users: new UsersPage($("page-users")),
  keys: new KeysPage($("page-keys")),
  audit: new AuditPage($("page-audit"), { connection: () => connection }),
  containers: new ContainersPage($("page-containers"), { store: containerStore }),
  container: new ContainerPage($("page-container"), {
    store: containerStore,
    connection: () => connection,
    param: () => router.currentParam(),
  }),
  storage: new StoragePage($("page-storage"), { connection: () => connection }),
  alerts: new AlertsPage($("page-alerts"), { store: alertStore }),
  jarvis: new JarvisPage($("page-jarvis"), {
    connection: () => connection,
    param: () => router.currentParam(),
  }),
};

/** Pages for everyone signed in, whatever the role, API keys included. */
const COMMON_PAGES = ["overview", "containers", "container", "storage", "alerts", "jarvis"];

const signin = new SignIn({
  onSignedIn: (user) => enterSession(user),
  onKey: (key) => tryKey(key),
  onUseAccount: () => {
    clearKey();
    startAccountFlow();
  },
  onRecheck: () => startAccountFlow(),
});

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
  ticks += 1;
  if (ticks % 15 === 0 && mode) refreshTimes($("main"));
}

// ---- signing in ------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function showBoot(text) {
  signin.hideAll();
  ui.boot.textContent = text;
  ui.boot.hidden = false;
}

/** Cookie session, else the login page (or the "create the admin first" page). */
async function startAccountFlow({ notice = "" } = {}) {
  showBoot("Connecting to Nebula…");
  for (let attempt = 0; ; attempt += 1) {
    try {
      const user = await session.resume();
      if (user) {
        enterSession(user);
        return;
      }
      const needed = await session.setupNeeded();
      ui.boot.hidden = true;
      if (needed) signin.showSetupNeeded();
      else signin.showLogin({ notice });
      return;
    } catch (err) {
      showBoot(`Cannot reach the server (${err.message}). Retrying…`);
      await sleep(Math.min(1000 * 2 ** attempt, 10000));
    }
  }
}

/** Verify a key before connecting: a 401 in the WebSocket handshake is invisible. */
async function tryKey(key) {
  showBoot("Checking the API key…");
  const verdict = await verifyKey(key);
  if (verdict === "unauthorized") {
    clearKey();
    ui.boot.hidden = true;
    signin.showKeyForm("That key was refused");
    return;
  }
  // "unreachable" goes ahead too: the connection retries with backoff.
  saveKey(key);
  enterKeyMode(key);
}

function enterSession(user) {
  mode = "session";
  ui.boot.hidden = true;
  signin.hideAll();
  renderWho(user);
  ui.nav.hidden = false;
  ui.who.hidden = false;
  ui.signOut.hidden = false;
  ui.changeKey.hidden = true;
  notices.setAuthor({ name: user.username, mayPost: session.mayPublish() });
  connect(null);
  showApp();
}

function enterKeyMode(key) {
  mode = "key";
  api.useKey(key);
  ui.boot.hidden = true;
  signin.hideAll();
  ui.nav.hidden = false;
  for (const link of ui.nav.querySelectorAll("[data-admin], [data-session]")) link.hidden = true;
  ui.who.hidden = true;
  ui.signOut.hidden = true;
  ui.changeKey.hidden = false;
  notices.setAuthor({ name: "API key", mayPost: true });
  connect(key);
  showApp();
}

/** Tear the signed-in app down; what comes next is up to the caller. */
function leaveApp() {
  mode = null;
  closeAll();
  if (connection) connection.stop("signed out");
  connection = null;
  connState = { state: "offline" };
  renderIndicator();
  if (shownPage) shownPage.hide();
  shownPage = null;
  notices.reset();
  containerStore.reset();
  alertStore.reset();
  for (const p of Object.values(pages)) p.reset();
  for (const el of document.querySelectorAll(".page")) el.hidden = true;
  ui.nav.hidden = true;
  ui.who.hidden = true;
  ui.signOut.hidden = true;
  ui.changeKey.hidden = true;
  ui.conn.hidden = true;
  ui.hostId.hidden = true;
  api.forget();
}

/** The server says the session is over (signed out elsewhere, disabled, role changed). */
function sessionEnded(notice = SESSION_ENDED) {
  if (mode !== "session") return;
  leaveApp();
  session.clear();
  signin.showLogin({ notice });
}

function keyRefused(message = "That key was refused") {
  if (mode !== "key") return;
  leaveApp();
  clearKey();
  signin.showKeyForm(message);
}

api.setUnauthorizedHandler(() => {
  if (mode === "session") sessionEnded();
  else if (mode === "key") keyRefused();
});

async function signOut() {
  // Stop the socket first: ending the session closes it with 4003, which
  // would otherwise read as "your session ended".
  if (connection) connection.stop("signing out");
  mode = null;
  try {
    await session.logout();
  } catch {
    session.clear(); // unreachable: the cookie expires on its own
  }
  leaveApp();
  signin.showLogin({ notice: "You are signed out." });
}

async function signOutEverywhere() {
  if (connection) connection.stop("signing out everywhere");
  try {
    await session.logout({ everywhere: true });
  } catch (err) {
    if (connection) connection.start();
    throw err; // shown in the dialog
  }
  mode = null;
  leaveApp();
  signin.showLogin({ notice: "You are signed out everywhere." });
}

function renderWho(user) {
  if (!user) return;
  ui.whoName.textContent = user.username;
  ui.whoRole.textContent = user.role;
  ui.whoRole.dataset.role = user.role;
  for (const link of ui.nav.querySelectorAll("[data-admin]")) link.hidden = user.role !== "admin";
  for (const link of ui.nav.querySelectorAll("[data-session]")) link.hidden = false;
}

session.onChange((user) => {
  if (user && mode === "session") renderWho(user);
});

// ---- live connection ---------------------------------------------------------------

function connect(key) {
  if (connection) connection.stop("replaced");
  if (!dashboard) dashboard = new HostDashboard(ui.grid);
  connection = new Connection({
    url: () => socketUrl(key),
    authorize: key ? () => verifyKey(key) : () => session.check(),
  });
  window.__nebula = { connection, dashboard }; // handy in devtools and tests

  connection.addEventListener("state", (ev) => {
    connState = ev.detail;
    tick();
  });
  connection.addEventListener("unauthorized", (ev) => {
    if (key) keyRefused(ev.detail.code === 4003 ? "That key was revoked or has expired" : "That key was refused");
    else sessionEnded();
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
  notices.attach(connection);
  containerStore.attach(connection);
  alertStore.attach(connection);
  window.__nebula.containers = containerStore;
  window.__nebula.alerts = alertStore;
  connection.start();
}

// ---- pages -----------------------------------------------------------------------------

function allowedPages() {
  if (mode === "session") return session.isAdmin() ? router.PAGES : [...COMMON_PAGES, "account"];
  return COMMON_PAGES;
}

function showApp() {
  ui.conn.hidden = false;
  renderIndicator();
  showPage();
}

function showPage({ focus = false } = {}) {
  if (!mode) return;
  const name = router.currentPage();
  if (!name || !allowedPages().includes(name)) {
    router.go("overview", { replace: true });
    return;
  }
  for (const el of document.querySelectorAll(".page")) el.hidden = el.dataset.page !== name;
  const navName = router.navFor(name);
  for (const link of ui.nav.querySelectorAll("[data-route]")) {
    if (link.dataset.route === navName) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const page = pages[name] ?? null;
  if (shownPage && shownPage !== page) shownPage.hide();
  shownPage = page;
  if (page) page.show();
  if (focus) {
    const heading = $(`page-${name}`).querySelector("h1");
    if (heading) heading.focus({ preventScroll: false });
  }
}

router.onNavigate(() => {
  // A setup link or `#token=` pasted into a tab that already shows the dashboard.
  if (router.hasSecret("setup") || router.hasSecret("token")) {
    if (mode) leaveApp();
    start();
    return;
  }
  showPage({ focus: true });
});

ui.signOut.addEventListener("click", () => {
  ui.signOut.disabled = true;
  signOut().finally(() => {
    ui.signOut.disabled = false;
  });
});

ui.changeKey.addEventListener("click", () => {
  leaveApp();
  clearKey();
  signin.showKeyForm();
});

// ---- start -------------------------------------------------------------------------------

function start() {
  const setupToken = router.takeSecret("setup");
  if (setupToken) {
    ui.boot.hidden = true;
    signin.showSetup(setupToken);
    return;
  }
  const key = takeKeyFromFragment() || loadKey();
  if (key) {
    tryKey(key);
    return;
  }
  startAccountFlow();
}

setInterval(tick, 1000);
start();
