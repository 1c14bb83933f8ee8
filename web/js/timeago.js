// <time> elements that show a local date and how long ago it was, kept
// fresh by one refresh call instead of a timer per element.

import { h } from "./dom.js";
import * as fmt from "./format.js";

/**
 * @param {string} iso RFC 3339 time from the server
 * @param {object} [o]
 * @param {"datetime"|"date"|"seconds"} [o.style] how the absolute part looks
 * @param {boolean} [o.stacked] relative part on its own line
 */
export function timeEl(iso, { style = "datetime", stacked = false } = {}) {
  const ms = fmt.parseTime(iso);
  if (!Number.isFinite(ms)) return h("span", { class: "muted", text: fmt.DASH });
  const abs = style === "date" ? fmt.date(ms) : style === "seconds" ? fmt.dateTimeSeconds(ms) : fmt.dateTime(ms);
  const rel = h("span", { class: "rel", dataset: { ts: String(ms) }, text: fmt.relative(ms) });
  return h(
    "time",
    { class: `when${stacked ? " when-stacked" : ""}`, dateTime: iso, title: new Date(ms).toString() },
    h("span", { class: "abs", text: abs }),
    stacked ? null : " · ",
    rel,
  );
}

/** Update every relative time under `root`. */
export function refreshTimes(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll(".rel[data-ts]")) {
    const text = fmt.relative(Number(el.dataset.ts), now);
    if (el.textContent !== text) el.textContent = text;
  }
}
