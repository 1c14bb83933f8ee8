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
