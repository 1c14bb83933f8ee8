// The signed-in account (docs/protocol.md, "/api/v1/auth" and "First start").
//
// The session itself lives in an HttpOnly cookie that scripts cannot read;
// what the page keeps is the user record and the session's CSRF token, in
// memory only, so a reload asks the server again (`/auth/me`).

import * as api from "./api.js";

/** @type {{id: number, username: string, role: string, totp_enabled: boolean} | null} */
let current = null;
const listeners = new Set();

export function user() {
  return current;
}

export function isAdmin() {
  return current?.role === "admin";
}

/** Operators and admins may publish; viewers only read. */
export function mayPublish() {
  return current !== null && current.role !== "viewer";
}

/** Called with the user (or null) whenever it changes. */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function adopt(result) {
  current = result.user;
  api.useSession(result.csrf_token);
  for (const fn of listeners) fn(current);
  return current;
}

/** Merge fields the server confirmed (e.g. totp_enabled after enrolling). */
export function update(fields) {
  if (!current) return;
  current = { ...current, ...fields };
  for (const fn of listeners) fn(current);
}

/** Forget the session locally (the server side is ended separately). */
export function clear() {
  current = null;
  api.forget();
  for (const fn of listeners) fn(null);
}

/**
 * Resume a session from the cookie.
 * @returns {Promise<object|null>} the user, or null when not signed in
 * @throws {api.ApiError} when the server cannot be reached
 */
export async function resume() {
  try {
    return adopt(await api.get("/api/v1/auth/me", { expect401: true }));
  } catch (err) {
    if (err.status === 401) return null;
    throw err;
  }
}

/**
 * Ask the server again who we are (an admin may have changed the account
 * meanwhile). A 401 goes to the app's "session ended" handler like any other.
 */
export async function refresh() {
  const result = await api.get("/api/v1/auth/me");
  if (result && result.user) update(result.user);
  return current;
}

/** Whether the first (admin) account still has to be created. */
export async function setupNeeded() {
  const result = await api.get("/api/v1/setup", { expect401: true });
  return result.needed === true;
}

export async function createAdmin(token, username, password) {
  return adopt(await api.post("/api/v1/setup", { token, username, password }, { expect401: true }));
}

/** Rejects with ApiError: 401 `totp_required` / `unauthorized`, 429 `locked_out`. */
export async function login(username, password, totp) {
  const body = { username, password };
  if (totp) body.totp = totp;
  return adopt(await api.post("/api/v1/auth/login", body, { expect401: true }));
}

/** End this session (or every session of the account) on the server. */
export async function logout({ everywhere = false } = {}) {
  try {
    await api.post(everywhere ? "/api/v1/auth/logout-all" : "/api/v1/auth/logout", {}, { expect401: true });
  } catch (err) {
    if (err.status !== 401) throw err; // 401: it had ended already
  }
  clear();
}

/**
 * For the WebSocket client: is the session still good?
 * @returns {Promise<"ok"|"unauthorized"|"unreachable">}
 */
export async function check() {
  try {
    await api.get("/api/v1/auth/me", { expect401: true });
    return "ok";
  } catch (err) {
    if (err.status === 401) return "unauthorized";
    return "unreachable";
  }
}
