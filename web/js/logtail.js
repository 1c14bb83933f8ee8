// A live log view: follows the bottom while the reader is there, lets them
// pause (lines keep arriving into the buffer and are counted, not shown),
// and filters with highlighting. At most CAP lines are kept, oldest dropped
// first, so a chatty container cannot grow the page without bound.

import { h, setText } from "./dom.js";

const CAP = 2000;
const NEAR_BOTTOM = 24; // px: "at the bottom" despite sub-pixel scrolling

export class LogTail {
  constructor({ id = "log" } = {}) {
    this.buffer = []; // {ts, stream, text, el}
    this.paused = false;
    this.pending = 0;
    this.query = "";
    this.follow = true;

    this.search = h("input", {
      type: "search",
      id: `${id}-search`,
      class: "log-search",
      placeholder: "Filter lines",
      autocomplete: "off",
      spellcheck: false,
      attrs: { "aria-label": "Filter log lines" },
    });
    this.search.addEventListener("input", () => {
      this.query = this.search.value.trim().toLowerCase();
      this._renderAll();
    });
    this.pauseBtn = h("button", { type: "button", class: "btn btn-small", id: `${id}-pause`, attrs: { "aria-pressed": "false" }, text: "Pause" });
    this.pauseBtn.addEventListener("click", () => this.setPaused(!this.paused));
    this.newLines = h("button", { type: "button", class: "btn btn-small log-new", id: `${id}-new`, hidden: true });
    this.newLines.addEventListener("click", () => this.setPaused(false));
    this.count = h("span", { class: "hint small log-count", attrs: { "aria-live": "off" } });
    this.status = h("p", { class: "log-status", attrs: { role: "status" }, hidden: true });
    this.body = h("div", { class: "log-body", id: `${id}-lines`, tabIndex: 0, attrs: { role: "log", "aria-label": "Log lines" } });
    this.body.addEventListener("scroll", () => {
      const b = this.body;
      this.follow = b.scrollHeight - b.scrollTop - b.clientHeight < NEAR_BOTTOM;
    });
    this.el = h(
      "div",
      { class: "log" },
      h("div", { class: "log-tools" }, this.search, this.pauseBtn, this.newLines, this.count),
      this.status,
      this.body,
    );
  }

  /** Lines from the channel, oldest first. */
  add(lines) {
    const fresh = clean(lines);
    if (!fresh.length) return;
    this.buffer.push(...fresh);
    this._trim();
    if (this.paused) {
      this.pending = Math.min(this.pending + fresh.length, this.buffer.length);
      this._renderPending();
    } else {
      this._append(fresh);
    }
    this._renderCount();
  }

  /** Older lines (from `history`) that belong before everything shown. */
  prepend(lines) {
    const old = clean(lines);
    if (!old.length) return;
    this.buffer.unshift(...old);
    this._trim();
    this.pending = Math.min(this.pending, this.buffer.length);
    this._renderAll();
  }

  setPaused(paused) {
    if (this.paused === paused) return;
    this.paused = paused;
    this.pauseBtn.textContent = paused ? "Resume" : "Pause";
    this.pauseBtn.setAttribute("aria-pressed", String(paused));
    this.el.dataset.paused = String(paused);
    if (!paused) {
      this.pending = 0;
      this.follow = true;
      this._renderAll();
    }
    this._renderPending();
  }

  showStatus(text) {
    this.status.hidden = !text;
    setText(this.status, text || "");
  }

  clear() {
    this.buffer = [];
    this.pending = 0;
    this.body.replaceChildren();
    this.setPaused(false);
    this.showStatus("");
    this._renderPending();
    this._renderCount();
  }

  _trim() {
    if (this.buffer.length <= CAP) return;
    for (const line of this.buffer.splice(0, this.buffer.length - CAP)) {
      if (line.el) line.el.remove();
    }
  }

  _matches(line) {
    return !this.query || line.text.toLowerCase().includes(this.query);
  }

  _row(line) {
    const row = h("div", { class: "log-line", dataset: { stream: line.stream } });
    if (line.ts) row.append(h("span", { class: "log-ts", text: shortTime(line.ts), title: line.ts }));
    row.append(h("span", { class: "log-text" }, highlight(line.text, this.query)));
    line.el = row;
    return row;
  }

  _append(lines) {
    const frag = document.createDocumentFragment();
    for (const line of lines) if (this._matches(line)) frag.append(this._row(line));
    this.body.append(frag);
    this._stick();
  }

  _renderAll() {
    // While paused the lines that arrived since stay out of view, also when the filter changes.
    const upto = Math.max(0, this.buffer.length - (this.paused ? this.pending : 0));
    const frag = document.createDocumentFragment();
    this.buffer.forEach((line, i) => {
      line.el = null;
      if (i < upto && this._matches(line)) frag.append(this._row(line));
    });
    this.body.replaceChildren(frag);
    this._stick();
    this._renderCount();
  }

  _stick() {
    if (this.follow) this.body.scrollTop = this.body.scrollHeight;
  }

  _renderPending() {
    this.newLines.hidden = !this.paused || this.pending === 0;
    setText(this.newLines, `${this.pending} new line${this.pending === 1 ? "" : "s"}`);
  }

  _renderCount() {
    const shown = this.body.childElementCount;
    setText(this.count, this.query ? `${shown} of ${this.buffer.length} lines match` : `${this.buffer.length} lines`);
  }
}

function clean(lines) {
  if (!Array.isArray(lines)) return [];
  return lines
    .filter((l) => l && typeof l.text === "string")
    .map((l) => ({ ts: typeof l.ts === "string" ? l.ts : "", stream: l.stream === "stderr" ? "stderr" : "stdout", text: l.text, el: null }));
}

function shortTime(iso) {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return "";
  return new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

/** The text with every occurrence of `query` (lower case) wrapped in <mark>. */
function highlight(text, query) {
  if (!query) return [text];
  const out = [];
  const lower = text.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(query); i !== -1; i = lower.indexOf(query, at)) {
    if (i > at) out.push(text.slice(at, i));
    out.push(h("mark", { text: text.slice(i, i + query.length) }));
    at = i + query.length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}
