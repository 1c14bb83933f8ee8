// Small, pure formatting helpers. Every function returns a plain string and
// never throws on missing or odd input: telemetry is best-effort and a field
// may be absent on some hosts.

const DASH = "—";

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Split a byte count into [value, unit] using binary (IEC) units. */
export function bytesParts(n) {
  if (!isNum(n) || n < 0) return [DASH, ""];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i += 1;
  }
  const digits = i === 0 ? 0 : v < 10 ? 2 : v < 100 ? 1 : 0;
  return [v.toFixed(digits), UNITS[i]];
}

/** "1.23 GiB" */
export function bytes(n) {
  const [v, u] = bytesParts(n);
  return u ? `${v} ${u}` : v;
}

/** "1.23 MiB/s" */
export function rate(n) {
  const [v, u] = bytesParts(n);
  return u ? `${v} ${u}/s` : v;
}

/** "12.5" (no unit) – one decimal below 100, none at 100. */
export function percentNumber(p) {
  if (!isNum(p)) return DASH;
  const c = Math.min(Math.max(p, 0), 100);
  return c >= 99.95 ? "100" : c.toFixed(1);
}

/** "12.5 %" */
export function percent(p) {
  return isNum(p) ? `${percentNumber(p)} %` : DASH;
}

/** Load average: two decimals. */
export function load(v) {
  return isNum(v) ? v.toFixed(2) : DASH;
}

/** Uptime: "3 d 4 h", "4 h 12 min", "12 min", "45 s". */
export function duration(seconds) {
  if (!isNum(seconds) || seconds < 0) return DASH;
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

/** "updated 12 s ago" style age; `ms` is an age in milliseconds. */
export function ago(ms) {
  if (!isNum(ms)) return "";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** Local date-time for a ms timestamp, e.g. for "booted" tooltips. */
export function dateTime(ms) {
  if (!isNum(ms)) return DASH;
  return new Date(ms).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

export { DASH, isNum };

/** Milliseconds since the epoch for an RFC 3339 string; NaN when absent or odd. */
export function parseTime(iso) {
  return typeof iso === "string" && iso ? Date.parse(iso) : NaN;
}

/** A long span in days, months or years ("40 d", "3 months", "2 years"). */
function longSpan(days) {
  if (days < 60) return `${days} d`;
  const months = Math.round(days / 30.44);
  if (months < 24) return `${months} months`;
  return `${Math.round(days / 365.25)} years`;
}

/** "5 min ago" or "in 3 d", relative to `now`. */
export function relative(ms, now = Date.now()) {
  if (!isNum(ms)) return DASH;
  const diff = ms - now;
  const days = Math.round(Math.abs(diff) / 86400000);
  if (diff > 1000) {
    const s = Math.round(diff / 1000);
    if (s < 60) return `in ${s} s`;
    const m = Math.round(s / 60);
    if (m < 60) return `in ${m} min`;
    const h = Math.round(m / 60);
    if (h < 48) return `in ${h} h`;
    return `in ${longSpan(days)}`;
  }
  if (days >= 60) return `${longSpan(days)} ago`;
  return ago(-diff);
}

/** Local date-time with seconds, for log entries. */
export function dateTimeSeconds(ms) {
  if (!isNum(ms)) return DASH;
  return new Date(ms).toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** Local date only. */
export function date(ms) {
  if (!isNum(ms)) return DASH;
  return new Date(ms).toLocaleDateString(undefined, { dateStyle: "medium" });
}
