// Audit page (admins): who did what, from where, and whether it was allowed.
// Filters go to GET /api/v1/audit; while the page is open, new entries
// arrive on the `audit` channel and are shown at the top when they match
// the filters, so a sign-in elsewhere shows up as it happens.

import * as api from "../api.js";
import { h } from "../dom.js";
import { errorBox, field, hide, onSubmit, selectField, show } from "../forms.js";
import { describe } from "../messages.js";
import { panel } from "../panels.js";
import { dataTable } from "../tables.js";
import { timeEl } from "../timeago.js";

const CHANNEL = "audit";
const ACTIONS = [
  "login",
  "logout",
  "logout-all",
  "setup",
  "account.",
  "user.",
  "user.create",
  "user.update",
  "user.delete",
  "key.",
  "key.create",
  "key.revoke",
  "secret.",
];

/** A datetime-local value (local time) as RFC 3339 UTC, or "" when empty or odd. */
function toRfc3339(local) {
  if (!local) return "";
  const t = new Date(local);
  return Number.isFinite(t.getTime()) ? t.toISOString().replace(/\.\d{3}Z$/, "Z") : "";
}

function tone(outcome) {
  const o = String(outcome ?? "");
  if (o === "ok") return "ok";
  if (o.startsWith("denied")) return "crit";
  return "warn";
}

/** Same rules as the server's filters (docs/protocol.md, "/api/v1/audit"). */
export function matches(e, f) {
  if (f.actor && e.actor !== f.actor) return false;
  if (f.action) {
    const a = String(e.action ?? "");
    if (f.action.endsWith(".") ? !a.startsWith(f.action) : a !== f.action) return false;
  }
  if (f.outcome && !String(e.outcome ?? "").startsWith(f.outcome)) return false;
  const at = Date.parse(e.at);
  if (f.since && !(at >= Date.parse(f.since))) return false;
  if (f.until && !(at <= Date.parse(f.until))) return false;
  return true;
}

export class AuditPage {
  /**
   * @param {HTMLElement} root
   * @param {object} ctx
   * @param {() => import("../connection.js").Connection | null} ctx.connection
   */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.filters = { actor: "", action: "", outcome: "", since: "", until: "", limit: 100 };
    this.ids = new Set();
    this.oldest = null;
    this.unsubscribe = null;
    this.subscribedOn = null;
    this.loadSeq = 0;

    this.heading = h("h1", { id: "audit-title", tabIndex: -1, text: "Audit log" });
    this.live = h("span", { class: "live-pill", id: "audit-live", dataset: { state: "off" }, text: "Not live" });
    this.error = errorBox();
    this.tbody = h("tbody", { id: "audit-rows" });
    this.empty = h("p", { class: "empty", hidden: true, text: "No entries match these filters." });
    this.older = h("button", { type: "button", class: "btn", id: "audit-older", text: "Load older", hidden: true });
    this.older.addEventListener("click", () => this._load({ append: true }));
    this.summary = h("p", { class: "hint small", attrs: { role: "status" } });

    const table = dataTable({
      id: "audit-table",
      className: "audit-table",
      caption: "Audit log, newest first",
      columns: ["Time", "Actor", "Action", "Target", "Address", "Outcome"],
      tbody: this.tbody,
    });
    root.append(
      h("div", { class: "section-head" }, this.heading, this.live),
      this._buildFilters(),
      panel(
        { id: "audit-list-title", title: "Entries", aside: this.summary },
        this.error,
        table,
        this.empty,
        h("div", { class: "actions" }, this.older),
      ),
    );
  }

  show() {
    this._load();
    this._follow();
  }

  hide() {
    this._unfollow();
  }

  reset() {
    this._unfollow();
    this.ids.clear();
    this.tbody.replaceChildren();
    hide(this.error);
  }

  // ---- filters ------------------------------------------------------------------------

  _buildFilters() {
    const actor = field({ label: "Actor", name: "actor", id: "audit-actor", autocomplete: "off", spellcheck: false, placeholder: "username or key" });
    const listId = "audit-actions";
    const action = field({
      label: "Action",
      name: "action",
      id: "audit-action",
      autocomplete: "off",
      spellcheck: false,
      placeholder: "login, or key. for all key.*",
    });
    action.input.setAttribute("list", listId);
    const datalist = h("datalist", { id: listId }, ACTIONS.map((a) => h("option", { value: a })));
    const outcome = selectField({
      label: "Outcome",
      name: "outcome",
      id: "audit-outcome",
      options: [
        ["", "Any"],
        ["ok", "ok"],
        ["denied", "denied"],
      ],
    });
    const since = field({ label: "Since", name: "since", type: "datetime-local", id: "audit-since", step: 1 });
    const until = field({ label: "Until", name: "until", type: "datetime-local", id: "audit-until", step: 1 });
    const limit = field({ label: "Show", name: "limit", type: "number", id: "audit-limit", min: 1, max: 1000, value: "100", inputMode: "numeric" });
    const apply = h("button", { type: "submit", class: "btn btn-primary", text: "Apply filters" });
    const clear = h("button", { type: "reset", class: "btn btn-quiet", text: "Clear" });
    const form = h(
      "form",
      { class: "panel panel-pad filters", id: "audit-filters", noValidate: true, attrs: { "aria-label": "Filter the audit log" } },
      actor.el,
      action.el,
      datalist,
      outcome.el,
      since.el,
      until.el,
      limit.el,
      h("div", { class: "actions filters-actions" }, apply, clear),
    );
    const read = () => {
      const n = Number.parseInt(limit.input.value, 10);
      return {
        actor: actor.input.value.trim(),
        action: action.input.value.trim(),
        outcome: outcome.input.value,
        since: toRfc3339(since.input.value),
        until: toRfc3339(until.input.value),
        limit: Number.isFinite(n) ? Math.min(Math.max(n, 1), 1000) : 100,
      };
    };
    onSubmit(form, {}, () => {
      this.filters = read();
      limit.input.value = String(this.filters.limit);
      this._load();
    });
    form.addEventListener("reset", () => {
      // After the browser has put the defaults back.
      setTimeout(() => {
        this.filters = read();
        this._load();
      });
    });
    return form;
  }

  _query(before) {
    const q = new URLSearchParams();
    for (const k of ["actor", "action", "outcome", "since", "until"]) if (this.filters[k]) q.set(k, this.filters[k]);
    q.set("limit", String(this.filters.limit));
    if (before !== undefined && before !== null) q.set("before", String(before));
    return q;
  }

  // ---- loading ------------------------------------------------------------------------

  async _load({ append = false } = {}) {
    const seq = ++this.loadSeq;
    hide(this.error);
    this.older.disabled = true;
    let entries;
    try {
      const result = await api.get("/api/v1/audit", { query: this._query(append ? this.oldest : undefined) });
      entries = Array.isArray(result.entries) ? result.entries : [];
    } catch (err) {
      if (seq === this.loadSeq && err.status !== 401) show(this.error, `Could not load the audit log. ${describe(err)}`);
      this.older.disabled = false;
      return;
    }
    if (seq !== this.loadSeq) return; // a newer query won
    if (!append) {
      this.ids.clear();
      this.tbody.replaceChildren();
      this.oldest = null;
    }
    for (const e of entries) {
      if (this.ids.has(e.id)) continue;
      this.ids.add(e.id);
      this.tbody.append(this._row(e, false));
      if (this.oldest === null || e.id < this.oldest) this.oldest = e.id;
    }
    this.older.hidden = entries.length < this.filters.limit;
    this.older.disabled = false;
    this._summarize();
  }

  _summarize() {
    const n = this.tbody.children.length;
    this.empty.hidden = n > 0;
    this.summary.textContent = `${n} entr${n === 1 ? "y" : "ies"} shown`;
  }

  _row(e, fresh) {
    const target = h("td", { class: "cell-wrap", dataset: { label: "Target" } });
    target.append(h("span", { class: "mono", text: e.target ?? "—" }));
    if (e.details !== null && e.details !== undefined && e.details !== "") {
      const details = typeof e.details === "string" ? e.details : JSON.stringify(e.details);
      target.append(h("span", { class: "details", text: details }));
    }
    return h(
      "tr",
      { class: fresh ? "is-new" : "", dataset: { id: String(e.id), action: String(e.action ?? ""), outcome: String(e.outcome ?? "") } },
      h("td", { dataset: { label: "Time" } }, timeEl(e.at, { style: "seconds", stacked: true })),
      h("td", { class: "mono", dataset: { label: "Actor" }, text: e.actor ?? "—" }),
      h("td", { dataset: { label: "Action" } }, h("span", { class: "chip", text: e.action ?? "—" })),
      target,
      h("td", { class: "mono", dataset: { label: "Address" }, text: e.client_address ?? "—" }),
      h("td", { dataset: { label: "Outcome" } }, h("span", { class: "badge", dataset: { tone: tone(e.outcome) }, text: e.outcome ?? "—" })),
    );
  }

  // ---- live ------------------------------------------------------------------------------

  _setLive(state, text) {
    this.live.dataset.state = state;
    this.live.textContent = text;
  }

  /** Subscribe on the current connection (again after a new sign-in). */
  _follow() {
    const conn = this.ctx.connection();
    if (!conn) {
      this._setLive("off", "Not live");
      return;
    }
    if (this.subscribedOn === conn && this.unsubscribe) return;
    this._unfollow();
    this.subscribedOn = conn;
    this._setLive("pending", "Connecting…");
    this.unsubscribe = conn.subscribe(CHANNEL, {
      onPublication: (data) => this._live(data),
      onSubscribed: () => this._setLive("on", "Live"),
      onReset: () => this._load(), // entries were missed: the list is reloaded
      onError: (err) => this._setLive("off", `Not live: ${err.message}`),
    });
  }

  _unfollow() {
    if (this.unsubscribe) this.unsubscribe();
    this.unsubscribe = null;
    this.subscribedOn = null;
    this._setLive("off", "Not live");
  }

  _live(e) {
    if (!e || typeof e !== "object" || this.ids.has(e.id)) return;
    if (!matches(e, this.filters)) return;
    this.ids.add(e.id);
    const row = this._row(e, true);
    // Newest first: place by id, in case entries arrive out of order.
    const after = [...this.tbody.children].find((tr) => Number(tr.dataset.id) < e.id);
    this.tbody.insertBefore(row, after ?? null);
    setTimeout(() => row.classList.remove("is-new"), 4000);
    this._summarize();
  }
}
