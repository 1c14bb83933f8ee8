// Storage page: how full each filesystem is (with a trend of the chosen
// one), how big the watched directories are, and what Docker keeps on disk.
// Fed by the latest-value `storage` channel while the page is open.

import * as api from "../api.js";
import { TimeChart } from "../chart.js";
import { h, setText, syncList } from "../dom.js";
import * as fmt from "../format.js";
import { panel } from "../panels.js";
import { pie } from "../pie.js";

const CHANNEL = "storage";
const TREND_MS = 24 * 3600000;

function fillTone(p) {
  if (!fmt.isNum(p)) return "ok";
  return p >= 90 ? "crit" : p >= 80 ? "warn" : "ok";
}

export class StoragePage {
  /**
   * @param {HTMLElement} root
   * @param {object} ctx
   * @param {() => import("../connection.js").Connection | null} ctx.connection
   */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.unsubscribe = null;
    this.data = null;
    this.trendMount = "";
    this.trendSeq = 0;

    this.heading = h("h1", { id: "storage-title", tabIndex: -1, text: "Storage" });
    this.updated = h("p", { class: "updated", id: "storage-updated", text: "Waiting for the first report…" });
    this.error = h("p", { class: "banner banner-crit", attrs: { role: "alert" }, hidden: true });
    this.mounts = h("ul", { class: "mounts", id: "storage-mounts" });
    this.trendSelect = h("select", { id: "storage-trend-mount", attrs: { "aria-label": "Filesystem" } });
    this.trendSelect.addEventListener("change", () => {
      this.trendMount = this.trendSelect.value;
      this._loadTrend();
    });
    this.trend = new TimeChart({ title: "Used, last 24 h", max: 100, format: fmt.percent, series: [{ name: "Used", className: "s-cpu" }] });
    this.dirs = h("div", { class: "dirs", id: "storage-dirs" });
    this.docker = h("div", { class: "docker-df", id: "storage-docker" });

    root.append(
      h("div", { class: "section-head" }, this.heading, this.updated),
      this.error,
      h(
        "div",
        { class: "page-grid" },
        panel({ id: "storage-fs-title", title: "Filesystems", plain: true }, this.mounts),
        panel({ id: "storage-trend-title", title: "Trend", aside: this.trendSelect }, this.trend.el),
        panel({ id: "storage-dirs-title", title: "Directories", plain: true }, this.dirs),
        panel({ id: "storage-docker-title", title: "Docker disk use", plain: true }, this.docker),
      ),
    );
  }

  show() {
    const conn = this.ctx.connection();
    if (conn && !this.unsubscribe) {
      this.unsubscribe = conn.subscribe(CHANNEL, {
        onPublication: (data) => this.update(data),
        onError: (err) => {
          this.error.hidden = false;
          setText(this.error, `Storage data unavailable: ${err.message}`);
        },
      });
    }
    if (this.data) this.update(this.data);
    this._loadTrend();
  }

  hide() {
    if (this.unsubscribe) this.unsubscribe();
    this.unsubscribe = null;
  }

  reset() {
    this.hide();
    this.data = null;
    this.mounts.replaceChildren();
  }

  update(data) {
    if (!data || typeof data !== "object") return;
    this.data = data;
    this.error.hidden = true;
    if (fmt.isNum(data.updated_at)) setText(this.updated, `Updated ${fmt.dateTimeSeconds(data.updated_at)}`);
    const fss = Array.isArray(data.filesystems) ? data.filesystems.filter((f) => f && typeof f.mount === "string") : [];
    syncList(this.mounts, fss, (f) => f.mount, mountRow, updateMount);
    this._syncTrendChoices(fss);
    this._renderDirs(Array.isArray(data.directories) ? data.directories : []);
    this._renderDocker(data.docker);
  }

  _syncTrendChoices(fss) {
    const mounts = fss.map((f) => f.mount);
    const have = [...this.trendSelect.options].map((o) => o.value);
    if (have.join("\n") !== mounts.join("\n")) {
      this.trendSelect.replaceChildren(...mounts.map((m) => h("option", { value: m, text: m })));
    }
    if (!mounts.includes(this.trendMount) && mounts.length) {
      this.trendMount = mounts.includes("/") ? "/" : mounts[0];
      this._loadTrend();
    }
    this.trendSelect.value = this.trendMount;
  }

  async _loadTrend() {
    if (!this.trendMount) return;
    const seq = ++this.trendSeq;
    const to = Date.now();
    const from = to - TREND_MS;
    try {
      const r = await api.get("/api/v1/history", {
        query: new URLSearchParams({ kind: "filesystem", subject: this.trendMount, metric: "used_percent", from: String(from), to: String(to), resolution: "auto" }),
      });
      if (seq !== this.trendSeq) return;
      const pts = Array.isArray(r.points) ? r.points.filter((p) => fmt.isNum(p.t) && fmt.isNum(p.avg)) : [];
      this.trend.set([pts], from, to);
      if (pts.length) this.trend.live(pts[pts.length - 1].avg);
    } catch {
      if (seq === this.trendSeq) this.trend.set([[]], from, to);
    }
  }

  _renderDirs(dirs) {
    const key = JSON.stringify(dirs.map((d) => [d.name, d.scanned_at, d.error, d.size && d.size.disk_bytes]));
    if (this.dirs.dataset.key === key) return;
    this.dirs.dataset.key = key;
    if (!dirs.length) {
      this.dirs.replaceChildren(h("p", { class: "empty", text: "No directories are watched. Start the server with --storage-dir name=/path to add some." }));
      return;
    }
    const rows = dirs.map((d) => {
      const size = d.size && typeof d.size === "object" ? d.size : null;
      let what;
      if (d.error) what = h("span", { class: "form-error-inline", text: d.error });
      else if (!size) what = h("span", { class: "muted", text: "Not scanned yet" });
      else what = `${fmt.bytes(size.disk_bytes)}`;
      const files = size ? `${Number(size.files ?? 0).toLocaleString()} files${size.errors ? `, ${size.errors} unreadable` : ""}` : "";
      return h(
        "tr",
        {},
        h("th", { attrs: { scope: "row" } }, h("span", { class: "dir-name", text: d.name ?? "" }), h("span", { class: "dir-path", text: d.path ?? "" })),
        h("td", { class: "num" }, what),
        h("td", { class: "muted" }, files),
      );
    });
    const table = h(
      "div",
      { class: "table-wrap" },
      h("table", { class: "table" }, h("thead", {}, h("tr", {}, h("th", { text: "Directory" }), h("th", { class: "num", text: "Size" }), h("th", { text: "Contents" }))), h("tbody", {}, rows)),
    );
    const parts = dirs.filter((d) => d.size && fmt.isNum(d.size.disk_bytes)).map((d) => ({ label: d.name ?? d.path, value: d.size.disk_bytes }));
    this.dirs.replaceChildren(parts.length ? pie(parts, fmt.bytes, "Directory sizes") : "", table);
  }

  _renderDocker(docker) {
    if (!docker || typeof docker !== "object") {
      this.docker.replaceChildren(h("p", { class: "empty", text: "No Docker engine reachable, or not measured yet." }));
      return;
    }
    const key = JSON.stringify([docker.scanned_at, docker.images_bytes, docker.containers_bytes, docker.volumes_bytes, docker.build_cache_bytes]);
    if (this.docker.dataset.key === key) return;
    this.docker.dataset.key = key;
    const parts = [
      { label: "Images", value: docker.images_bytes },
      { label: "Containers", value: docker.containers_bytes },
      { label: "Volumes", value: docker.volumes_bytes },
      { label: "Build cache", value: docker.build_cache_bytes },
    ];
    const list = h(
      "dl",
      { class: "kv" },
      parts.map((p) => [h("dt", { text: p.label }), h("dd", { text: fmt.bytes(p.value) })]),
    );
    const vols = Array.isArray(docker.volumes) ? docker.volumes.filter((v) => v && v.name).sort((a, b) => (b.bytes ?? 0) - (a.bytes ?? 0)).slice(0, 10) : [];
    this.docker.replaceChildren(
      pie(parts.map((p) => ({ ...p, value: Number(p.value) })), fmt.bytes, "Docker disk use"),
      list,
      vols.length ? h("h3", { class: "small-head", text: "Largest volumes" }) : "",
      vols.length ? h("ul", { class: "vol-list" }, vols.map((v) => h("li", {}, h("span", { class: "chip", text: v.name }), ` ${fmt.bytes(v.bytes)}`))) : "",
      fmt.isNum(docker.scanned_at) ? h("p", { class: "hint small", text: `Measured ${fmt.dateTime(docker.scanned_at)}` }) : "",
    );
  }
}

function mountRow() {
  const r = {};
  r.mount = h("span", { class: "mount-name" });
  r.pct = h("span", { class: "mount-pct" });
  r.fill = h("span", { class: "meter-fill" });
  r.meter = h("span", { class: "meter", attrs: { role: "meter", "aria-valuemin": "0", "aria-valuemax": "100" } }, r.fill);
  r.detail = h("span", { class: "mount-detail" });
  const li = h("li", { class: "mount" }, h("span", { class: "mount-top" }, r.mount, r.pct), r.meter, r.detail);
  li._r = r;
  return li;
}

function updateMount(li, f) {
  const r = li._r;
  setText(r.mount, f.mount);
  r.mount.title = `${f.device ?? ""} ${f.fs_type ?? ""}`.trim();
  setText(r.pct, fmt.percent(f.used_percent));
  const p = fmt.isNum(f.used_percent) ? Math.min(Math.max(f.used_percent, 0), 100) : 0;
  // CSSOM, not a style attribute: allowed under the strict CSP.
  r.fill.style.width = `${p}%`;
  li.dataset.tone = fillTone(f.used_percent);
  r.meter.setAttribute("aria-valuenow", p.toFixed(1));
  r.meter.setAttribute("aria-label", `${f.mount} used`);
  setText(r.detail, `${fmt.bytes(f.used_bytes)} used of ${fmt.bytes(f.total_bytes)} · ${fmt.bytes(f.available_bytes)} free · ${f.fs_type ?? ""}`);
}
