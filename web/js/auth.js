// API-key handling until accounts exist (issue 3).
//
// Order: URL fragment `#token=<key>` (removed from the address bar at once),
// then sessionStorage, then a small form asking for the key.

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
  const hash = window.location.hash;
  if (!hash || hash.length < 2) return null;
  const params = new URLSearchParams(hash.slice(1));
  if (!params.has("token")) return null;
  const key = (params.get("token") || "").trim();
  params.delete("token");
  const rest = params.toString();
  const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : "");
  window.history.replaceState(window.history.state, "", url);
  if (key) saveKey(key);
  return key || null;
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

/** The WebSocket URL on this host, ws: or wss: matching the page. */
export function socketUrl(key) {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${window.location.host}/ws?token=${encodeURIComponent(key)}`;
}

/**
 * Show the key form and resolve with the entered key.
 * @param {HTMLFormElement} form
 * @param {string} [error] message shown above the field
 */
export function askForKey(form, error) {
  const input = form.querySelector("input[name=key]");
  const errorEl = form.querySelector("[data-role=error]");
  form.hidden = false;
  errorEl.textContent = error || "";
  errorEl.hidden = !error;
  input.value = "";
  if (error) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  input.focus();
  return new Promise((resolve) => {
    const onSubmit = (ev) => {
      ev.preventDefault();
      const key = input.value.trim();
      if (!key) {
        errorEl.textContent = "Enter the API key.";
        errorEl.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      form.removeEventListener("submit", onSubmit);
      saveKey(key);
      resolve(key);
    };
    form.addEventListener("submit", onSubmit);
  });
}
