// What an API error means for the person in front of the screen. The server's
// `message` is written for developers; the `code` decides the sentence, and
// the message is only shown where it adds the missing detail.

import { ApiError } from "./api.js";

/** "the password needs…" → "The password needs…." */
export function sentence(text) {
  const t = String(text ?? "").trim();
  if (!t) return "";
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

function wait(err) {
  const secs = err.retryAfter ?? Number((/(\d+)\s*s\b/.exec(err.message) || [])[1]);
  return Number.isFinite(secs) && secs > 0 ? secs : null;
}

/** Seconds to wait after `locked_out`, when the server said. */
export function lockedFor(err) {
  return err instanceof ApiError && err.code === "locked_out" ? wait(err) : null;
}

/**
 * @param {unknown} err
 * @param {Record<string, string | ((err: ApiError) => string)>} [overrides] per error code
 */
export function describe(err, overrides = {}) {
  if (!(err instanceof ApiError)) {
    return `Something went wrong: ${err instanceof Error ? err.message : String(err)}`;
  }
  const o = overrides[err.code];
  if (o) return typeof o === "function" ? o(err) : o;
  switch (err.code) {
    case "unreachable":
      return err.message;
    case "forbidden":
      return `Not allowed: ${err.message}`;
    case "unauthorized":
      return "Wrong username, password or code";
    case "locked_out": {
      const secs = wait(err);
      return secs
        ? `Too many failed attempts. Try again in ${secs} s.`
        : "Too many failed attempts. Wait a little and try again.";
    }
    case "weak_password":
      return "That password is too weak: use at least 10 characters.";
    case "wrong_password":
      return "That password is wrong.";
    case "invalid_code":
      return "That code does not match. Check that the clock of your phone is right and try the next code.";
    case "last_admin":
      return "Not possible: at least one enabled admin account must remain.";
    case "conflict":
      return `That name is taken: ${sentence(err.message)}`;
    case "not_found":
      return "It no longer exists; the list was out of date.";
    case "totp_enabled":
      return "Two-factor authentication is already on.";
    case "totp_not_enabled":
      return "Two-factor authentication is off.";
    case "bad_request":
      return sentence(err.message) || "The server did not accept that.";
    default:
      if (err.status >= 500) return `The server failed (${err.status}): ${sentence(err.message)}`;
      return `The server refused (${err.status}): ${sentence(err.message)}`;
  }
}
