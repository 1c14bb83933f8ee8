// HTTP client for /api/v1 (docs/protocol.md, "HTTP API").
//
// The dashboard talks to the API either as a signed-in account (the session
// cookie, plus the CSRF token on every state-changing request) or with an API
// key (`Authorization: Bearer`). Whichever is in use is set here once, so the
// pages never handle credentials themselves.

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {string} code   the `error.code` of the body ("unreachable" for 0)
   * @param {string} message
   * @param {number|null} retryAfter seconds, from `Retry-After`
   */
  constructor(status, code, message, retryAfter = null) {
    super(message || code);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

const SAFE = new Set(["GET", "HEAD"]);

let credentials = { mode: "none", csrf: null, key: null };
let onUnauthorized = null;

/** Signed in with an account: the browser sends the cookie, we add the CSRF token. */
export function useSession(csrfToken) {
  credentials = { mode: "session", csrf: csrfToken, key: null };
}

export function useKey(key) {
  credentials = { mode: "key", csrf: null, key };
}

export function forget() {
  credentials = { mode: "none", csrf: null, key: null };
}

export function mode() {
  return credentials.mode;
}

/**
 * Called with the ApiError when a request is refused with 401: the session
 * ended (signed out elsewhere, role changed, user disabled) or the key was
 * revoked. Requests that expect a 401 (login, setup, "who am I") opt out.
 */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/**
 * @param {string} method
 * @param {string} path   e.g. "/api/v1/users"
 * @param {object} [options]
 * @param {any} [options.body]             sent as JSON
 * @param {URLSearchParams} [options.query]
 * @param {boolean} [options.expect401]    a 401 is an answer, not a lost session
 * @returns {Promise<any>} the `result` of the answer
 */
export async function request(method, path, { body, query, expect401 = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (credentials.mode === "key") headers.Authorization = `Bearer ${credentials.key}`;
  if (credentials.mode === "session" && !SAFE.has(method) && credentials.csrf) {
    headers["X-CSRF-Token"] = credentials.csrf;
  }
  const qs = query && [...query.keys()].length ? `?${query}` : "";
  let res;
  try {
    res = await fetch(path + qs, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "unreachable", "Cannot reach the server. Check the connection and try again.");
  }
  let payload = null;
  try {
    payload = await res.json();
  } catch {
    payload = null; // an empty body or a proxy's HTML error page
  }
  if (res.ok) return payload && typeof payload === "object" ? payload.result ?? {} : {};

  const err = payload && typeof payload === "object" && payload.error ? payload.error : {};
  const retry = Number.parseInt(res.headers.get("Retry-After") || "", 10);
  const error = new ApiError(
    res.status,
    typeof err.code === "string" ? err.code : `http_${res.status}`,
    typeof err.message === "string" ? err.message : res.statusText,
    Number.isFinite(retry) ? retry : null,
  );
  if (res.status === 401 && !expect401 && onUnauthorized) onUnauthorized(error);
  throw error;
}

export const get = (path, options) => request("GET", path, options);
export const post = (path, body = {}, options = {}) => request("POST", path, { ...options, body });
export const patch = (path, body, options = {}) => request("PATCH", path, { ...options, body });
export const del = (path, options) => request("DELETE", path, options);
