// API keys, the credential of scripts, OBS and the original dashboard.
//
// Order: URL fragment `#token=<key>` (removed from the address bar at once),
// then sessionStorage. Accounts (js/session.js) are the other way in.

import { takeSecret } from "./router.js";

const STORAGE_KEY = "nebula.apiKey";

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled (privacy mode); keep the key in memory only
  }
}

let memoryKey = null;

/** Read `#token=` from the fragment, store it, and scrub it from the URL. */
export function takeKeyFromFragment() {
  const key = takeSecret("token");
  if (key) saveKey(key);
  return key;
}

export function loadKey() {
  const s = storage();
  return (s && s.getItem(STORAGE_KEY)) || memoryKey;
}

export function saveKey(key) {
  memoryKey = key;
  const s = storage();
  if (s) s.setItem(STORAGE_KEY, key);
}

export function clearKey() {
  memoryKey = null;
  const s = storage();
  if (s) s.removeItem(STORAGE_KEY);
}

/**
 * Check a key against the HTTP API. A 401 in the WebSocket handshake looks
 * like any failed connection in browsers, so this is how a wrong key is told
 * apart from a server that is down.
 * @returns {Promise<"ok"|"unauthorized"|"unreachable">}
 */
export async function verifyKey(key) {
  let res;
  try {
    res = await fetch("/api/v1/channels", {
      headers: { Authorization: `Bearer ${key}` },
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    return "unreachable";
  }
  if (res.status === 401) return "unauthorized";
  if (res.ok) return "ok";
  // 5xx during a restart, a proxy error page, …: retry later.
  return res.status >= 500 ? "unreachable" : "ok";
}

/**
 * The WebSocket URL on this host, ws: or wss: matching the page. Without a
 * key the browser authenticates with the session cookie (and its Origin).
 */
export function socketUrl(key) {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  const base = `${proto}//${window.location.host}/ws`;
  return key ? `${base}?token=${encodeURIComponent(key)}` : base;
}
