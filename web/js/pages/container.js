// One container: state and actions, its history charts (CPU, memory,
// network, block I/O) over a chosen range with the live value alongside,
// and the live log. The log channel is only followed while this page is
// open: the server stops tailing when nobody listens.

import * as api from "../api.js";
import { TimeChart } from "../chart.js";
import { syncActions } from "../container-actions.js";
import { showState } from "../container-state.js";
import { h, setText } from "../dom.js";
import { errorBox } from "../forms.js";
import * as fmt from "../format.js";
import { LogTail } from "../logtail.js";
import { panel } from "../panels.js";

const RANGES = [
  { id: "1h", label: "1 h", ms: 3600000 },
  { id: "24h", label: "24 h", ms: 86400000 },
  { id: "7d", label: "7 d", ms: 7 * 86400000 },
];
const REFRESH_MS = 15000;

/** A chart line: the history metric, which is also the field of the live entry. */
const line = (name, className, metric) => ({ name, className, metric });

const CHARTS = [
  { id: "cpu", title: "CPU", format: fmt.percent, series: [line("CPU", "s-cpu", "cpu_percent")] },
  { id: "mem", title: "Memory", format: fmt.bytes, series: [line("Memory", "s-mem", "memory_bytes")] },
  {
    id: "net",
    title: "Network",
    format: fmt.rate,
    series: [line("rx", "s-rx", "network_rx_bytes_per_second"), line("tx", "s-tx", "network_tx_bytes_per_second")],
  },
  {
    id: "blk",
    title: "Block I/O",
    format: fmt.rate,
    series: [line("read", "s-rx", "block_read_bytes_per_second"), line("write", "s-tx", "block_write_bytes_per_second")],
  },
];

export class ContainerPage {
  /**
   * @param {HTMLElement} root
   * @param {object} ctx
   * @param {import("../containers-store.js").ContainerStore} ctx.store
   * @param {() => import("../connection.js").Connection | null} ctx.connection
   * @param {() => string} ctx.param the container name from the route
   */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.store = ctx.store;
    this.name = "";
    this.range = RANGES[0];
    this.subs = [];
    this.detailId = null;
    this.timer = null;
    this.loadSeq = 0;
    this.onChange = () => this.render();

    this.heading = h("h1", { id: "container-title", tabIndex: -1 });
    this.state = h("span", { class: "badge", id: "container-state" });
    this.health = h("span", { class: "badge", id: "container-health", hidden: true });
    this.image = h("p", { class: "ctr-image", id: "container-image" });
    this.status = h("p", { class: "hint small", id: "container-status" });
    this.actions = h("div", { class: "ctr-actions", id: "container-actions" });
    this.missing = h("p", { class: "banner banner-warn", id: "container-missing", hidden: true });
    this.rangeBox = h("div", { class: "segmented", attrs: { role: "group", "aria-label": "Time range" } });
    for (const r of RANGES) {
      const b = h("button", { type: "button", class: "segment", dataset: { range: r.id }, text: r.label });
      b.addEventListener("click", () => {
        this.range = r;
        this._renderRange();
        this._loadHistory();
      });
      this.rangeBox.append(b);
    }
    this.charts = CHARTS.map((c) => ({ spec: c, chart: new TimeChart(c) }));
    this.chartError = errorBox();
    this.log = new LogTail({ id: "container-log" });

    root.append(
      h("p", { class: "crumbs" }, h("a", { href: "#/containers", text: "← Containers" })),
      h(
        "header",
        { class: "panel panel-pad ctr-detail-head" },
        h("div", { class: "ctr-head" }, this.heading, h("span", { class: "ctr-badges" }, this.state, this.health)),
        this.image,
        this.status,
        this.actions,
      ),
      this.missing,
      panel(
        { id: "container-charts-title", title: "Usage", aside: this.rangeBox },
        this.chartError,
        h("div", { class: "chart-grid" }, this.charts.map((c) => c.chart.el)),
      ),
      panel({ id: "container-log-title", title: "Live log", plain: true }, this.log.el),
    );
    this._renderRange();
  }

  show() {
    const name = this.ctx.param();
    if (name !== this.name) {
      this._leave();
      this.name = name;
      this.log.clear();
      for (const c of this.charts) c.chart.live(...c.spec.series.map(() => null));
    }
    setText(this.heading, name);
    this.store.addEventListener("change", this.onChange);
    this._follow();
    this.render();
    this._loadHistory();
    clearInterval(this.timer);
    this.timer = setInterval(() => this._loadHistory(), REFRESH_MS);
  }

  hide() {
    this._leave();
    this.name = "";
  }

  reset() {
    this.hide();
    this.log.clear();
  }

  _leave() {
    this.store.removeEventListener("change", this.onChange);
    clearInterval(this.timer);
    this.timer = null;
    for (const off of this.subs) off();
    this.subs = [];
    this.detailId = null;
    this.followingOn = null;
    this._backfilled = null;
  }

  /** Follow the log (and, once the id is known, the detail channel) on the current connection. */
  _follow() {
    const conn = this.ctx.connection();
    if (!conn || !this.name || this.followingOn === conn) return;
    this.followingOn = conn;
    const channel = `logs.${this.name}`;
    this.log.showStatus("");
    this.subs.push(
      conn.subscribe(channel, {
        onPublication: (data) => {
          if (data && typeof data.error === "string") this.log.showStatus(data.error);
          else if (data) this.log.add(data.lines);
        },
        onSubscribed: (result) => this._backfill(conn, channel, result),
        onReset: () => this.log.showStatus("Some lines were missed while the connection was down."),
        onError: (err) => this.log.showStatus(`Cannot follow the log: ${err.message}`),
      }),
    );
  }

  /** Lines published before we subscribed (another viewer started the tail earlier). */
  async _backfill(conn, channel, result) {
    if (!result || !(result.offset > 0) || this._backfilled === channel) return;
    this._backfilled = channel;
    try {
      const hist = await conn.history(channel);
      const pubs = (hist.publications || []).filter((p) => p.offset <= result.offset && hist.epoch === result.epoch);
      const lines = pubs.flatMap((p) => (p.data && Array.isArray(p.data.lines) ? p.data.lines : []));
      if (`logs.${this.name}` === channel) this.log.prepend(lines);
    } catch {
      // Only the older lines are missing; live ones keep coming.
    }
  }

  render() {
    if (!this.name) return;
    const c = this.store.byName(this.name);
    const known = Boolean(this.store.snapshot);
    this.missing.hidden = Boolean(c) || !known;
    if (!c) {
      if (known) setText(this.missing, `No container named “${this.name}” on this engine (any more).`);
      setText(this.state, known ? "missing" : "…");
      this.state.dataset.tone = "muted";
      this.health.hidden = true;
      this.actions.replaceChildren();
      return;
    }
    showState(this.state, this.health, c);
    setText(this.image, c.image ?? "");
    const bits = [c.status, c.restart_count ? `restarted ${c.restart_count}×` : "", c.compose_project ? `project ${c.compose_project}` : "", fmt.isNum(c.pids) ? `${c.pids} processes` : ""];
    setText(this.status, bits.filter(Boolean).join(" · "));
    syncActions(this.actions, c);
    this._liveValues(c);
    if (c.id && this.detailId !== c.id) this._followDetail(c.id);
  }

  /** The per-container channel carries the same entry; following it keeps this page live on its own. */
  _followDetail(id) {
    const conn = this.ctx.connection();
    if (!conn) return;
    this.detailId = id;
    this.subs.push(
      conn.subscribe(`telemetry.container.${id}`, {
        onPublication: (data) => {
          if (data && data.name === this.name) this._liveValues(data);
        },
      }),
    );
  }

  _liveValues(c) {
    for (const { spec, chart } of this.charts) chart.live(...spec.series.map((s) => c[s.metric]));
  }

  _renderRange() {
    for (const b of this.rangeBox.children) b.setAttribute("aria-pressed", String(b.dataset.range === this.range.id));
  }

  async _loadHistory() {
    if (!this.name) return;
    const seq = ++this.loadSeq;
    const to = Date.now();
    const from = to - this.range.ms;
    const get = (metric) =>
      api
        .get("/api/v1/history", {
          query: new URLSearchParams({ kind: "container", subject: this.name, metric, from: String(from), to: String(to), resolution: "auto" }),
        })
        .then((r) => (Array.isArray(r.points) ? r.points.filter((p) => fmt.isNum(p.t) && fmt.isNum(p.avg)) : []));
    try {
      const results = await Promise.all(this.charts.map(({ spec }) => Promise.all(spec.series.map((s) => get(s.metric)))));
      if (seq !== this.loadSeq) return;
      this.chartError.hidden = true;
      results.forEach((data, i) => this.charts[i].chart.set(data, from, to));
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.chartError.hidden = false;
      setText(this.chartError, `History unavailable: ${err.message}`);
    }
  }
}
