// Alerts page: what fires now (worst first), what resolved during this
// visit, and the recent history from the server. Live through the shared
// AlertStore; the history list is reloaded whenever an alert changes.

import * as api from "../api.js";
import { h, setText, syncList } from "../dom.js";
import { errorBox } from "../forms.js";
import * as fmt from "../format.js";
import { panel } from "../panels.js";

const TONE = { critical: "crit", warning: "warn", info: "accent" };

function when(ms, prefix) {
  if (!fmt.isNum(ms)) return h("span", { class: "muted", text: fmt.DASH });
  return h(
    "time",
    { class: "when", dateTime: new Date(ms).toISOString(), title: fmt.dateTimeSeconds(ms) },
    `${prefix} `,
    h("span", { class: "rel", dataset: { ts: String(ms) }, text: fmt.relative(ms) }),
  );
}

function alertRow(a) {
  const li = h("li", { class: "alert-item" });
  li._fill = (x) => {
    li.dataset.severity = x.severity ?? "";
    li.dataset.state = x.state ?? "";
    li.replaceChildren(
      h(
        "div",
        { class: "alert-top" },
        h("span", { class: "badge", dataset: { tone: x.state === "resolved" ? "muted" : TONE[x.severity] ?? "warn" }, text: x.state === "resolved" ? "resolved" : x.severity ?? "alert" }),
        h("span", { class: "alert-summary", text: x.summary ?? x.key }),
      ),
      h(
        "div",
        { class: "alert-meta" },
        h("span", { class: "chip", text: x.rule ?? "" }),
        h("span", { class: "alert-subject", text: x.subject ?? "" }),
        when(x.fired_at ?? x.since, "fired"),
        x.resolved_at ? when(x.resolved_at, "resolved") : null,
      ),
    );
  };
  li._fill(a);
  return li;
}

export class AlertsPage {
  /**
   * @param {HTMLElement} root
   * @param {object} ctx
   * @param {import("../alerts-store.js").AlertStore} ctx.store
   */
  constructor(root, { store }) {
    this.root = root;
    this.store = store;
    this.visible = false;
    this.historySeq = 0;
    this.onChange = () => {
      this.render();
      this._loadHistory();
    };

    this.heading = h("h1", { id: "alerts-title", tabIndex: -1, text: "Alerts" });
    this.summary = h("p", { class: "updated", id: "alerts-summary" });
    this.error = errorBox();
    this.firing = h("ul", { class: "alert-list", id: "alerts-firing" });
    this.firingEmpty = h("p", { class: "empty all-clear", text: "All clear: nothing is firing." });
    this.resolved = h("ul", { class: "alert-list", id: "alerts-resolved" });
    this.resolvedEmpty = h("p", { class: "empty", text: "Nothing resolved while this page was open." });
    this.history = h("ul", { class: "alert-list", id: "alerts-history" });
    this.historyEmpty = h("p", { class: "empty", text: "No alerts yet." });

    root.append(
      h("div", { class: "section-head" }, this.heading, this.summary),
      this.error,
      h(
        "div",
        { class: "page-grid" },
        panel({ id: "alerts-firing-title", title: "Firing", className: "span-2", plain: true }, this.firingEmpty, this.firing),
        panel({ id: "alerts-resolved-title", title: "Recently resolved", plain: true }, this.resolvedEmpty, this.resolved),
        panel({ id: "alerts-history-title", title: "History", plain: true }, this.historyEmpty, this.history),
      ),
    );
  }

  show() {
    this.visible = true;
    this.store.addEventListener("change", this.onChange);
    this.render();
    this._loadHistory();
  }

  hide() {
    this.visible = false;
    this.store.removeEventListener("change", this.onChange);
  }

  reset() {
    this.hide();
    this.history.replaceChildren();
  }

  render() {
    if (!this.visible) return;
    const firing = this.store.firingList();
    this.error.hidden = !this.store.error;
    if (this.store.error) setText(this.error, `Alerts unavailable: ${this.store.error}`);
    setText(this.summary, firing.length ? `${firing.length} firing` : "All clear");
    this.summary.dataset.tone = firing.length ? "warn" : "ok";
    this.firingEmpty.hidden = firing.length > 0;
    syncList(this.firing, firing, (a) => `${a.id}:${a.key}`, alertRow, (li, a) => li._fill(a));
    const resolved = this.store.resolved;
    this.resolvedEmpty.hidden = resolved.length > 0;
    syncList(this.resolved, resolved, (a) => `${a.id}:${a.key}`, alertRow, (li, a) => li._fill(a));
  }

  async _loadHistory() {
    const seq = ++this.historySeq;
    try {
      const r = await api.get("/api/v1/alerts", { query: new URLSearchParams({ state: "all", limit: "50" }) });
      if (seq !== this.historySeq || !this.visible) return;
      const list = Array.isArray(r.alerts) ? r.alerts.filter((a) => a && a.key) : [];
      this.historyEmpty.hidden = list.length > 0;
      syncList(this.history, list, (a) => `${a.id}:${a.key}:${a.state}`, alertRow, (li, a) => li._fill(a));
    } catch (err) {
      if (seq !== this.historySeq) return;
      this.error.hidden = false;
      setText(this.error, `Alert history unavailable: ${err.message}`);
    }
  }
}
