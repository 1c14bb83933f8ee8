// Host telemetry cards (the `telemetry.host` channel, docs/protocol.md).
// Builds the cards once with DOM APIs, then updates text and bars in place.
// Server-provided strings (hostname, interface, device, mount) only ever go
// through textContent.

import { h, setText, syncList } from "./dom.js";
import * as fmt from "./format.js";
import { Sparkline } from "./sparkline.js";

const WARN = 80;
const CRIT = 90;

/** "ok" | "warn" | "crit" for a percentage. */
export function level(p) {
  if (!fmt.isNum(p)) return "ok";
  if (p > CRIT) return "crit";
  if (p > WARN) return "warn";
  return "ok";
}

const isLoopback = (name) => /^lo\d*$/.test(name);

/** A horizontal bar with meter semantics. */
function bar(label) {
  const fill = h("span", { class: "bar-fill" });
  const el = h(
    "div",
    {
      class: "bar",
      attrs: { role: "meter", "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": label },
    },
    fill,
  );
  return { el, fill };
}

function setBar(b, p, label) {
  const v = fmt.isNum(p) ? Math.min(Math.max(p, 0), 100) : 0;
  b.fill.style.width = `${v}%`;
  b.el.dataset.level = level(p);
  b.el.setAttribute("aria-valuenow", v.toFixed(1));
  b.el.setAttribute("aria-valuetext", fmt.percent(p));
  if (label) b.el.setAttribute("aria-label", label);
}

/** A card: <article> with a heading and optional meta text. */
function card(id, title, { wide = false, meta = null } = {}) {
  const headingId = `${id}-title`;
  const metaEl = h("span", { class: "card-meta", text: meta ?? "" });
  const el = h(
    "article",
    { class: `card${wide ? " card-wide" : ""}`, id, attrs: { "aria-labelledby": headingId } },
    h("header", { class: "card-head" }, h("h2", { id: headingId, text: title }), metaEl),
  );
  return { el, metaEl };
}

function bigNumber(id, unit) {
  const value = h("span", { class: "big-value", id, text: fmt.DASH });
  const unitEl = h("span", { class: "big-unit", text: unit });
  return { el: h("p", { class: "big" }, value, unitEl), value, unitEl };
}

function stat(label, id) {
  const value = h("dd", { id, text: fmt.DASH });
  return { el: h("div", { class: "stat" }, h("dt", { text: label }), value), value };
}

/** How full memory or swap is: the big percentage, "X of Y used" and a bar. */
function usage(prefix, label) {
  return {
    big: bigNumber(`${prefix}-percent`, "%"),
    used: h("p", { class: "sub", id: `${prefix}-used`, text: fmt.DASH }),
    bar: bar(label),
  };
}

function setUsage(u, s) {
  setText(u.big.value, fmt.percentNumber(s.used_percent));
  u.big.value.dataset.level = level(s.used_percent);
  setText(u.used, `${fmt.bytes(s.used_bytes)} of ${fmt.bytes(s.total_bytes)} used`);
  setBar(u.bar, s.used_percent);
}

/**
 * A table of two rates per row (network interfaces, disks).
 * @param {string} id          of the tbody
 * @param {string} caption     read out only
 * @param {string[]} columns   the name column, then the two rates
 */
function rateTable(id, caption, [nameCol, ...rateCols]) {
  const tbody = h("tbody", { id });
  const table = h(
    "table",
    { class: "table" },
    h("caption", { class: "sr-only", text: caption }),
    h(
      "thead",
      {},
      h("tr", {}, h("th", { scope: "col", text: nameCol }), rateCols.map((t) => h("th", { scope: "col", class: "num", text: t }))),
    ),
    tbody,
  );
  return { el: h("div", { class: "table-wrap" }, table), tbody };
}

/** Keep a rate table's rows in step with `items`: one per `name`, with the rates under `rates`. */
function syncRates(tbody, items, name, rates) {
  syncList(
    tbody,
    items,
    (x) => x[name],
    () => {
      const cells = [h("th", { scope: "row", class: "name" }), ...rates.map(() => h("td", { class: "num" }))];
      const tr = h("tr", {}, cells);
      tr._c = cells;
      return tr;
    },
    (tr, x) => {
      setText(tr._c[0], x[name]);
      tr._c[0].title = x[name];
      rates.forEach((k, i) => setText(tr._c[i + 1], fmt.rate(x[k])));
    },
  );
}

export class HostDashboard {
  /** @param {HTMLElement} grid container the cards go into */
  constructor(grid) {
    this.grid = grid;
    this.last = null;
    this.receivedAt = 0;
    this.showLoopback = false;
    this.samples = 0;
    // DOM order is the phone (single column) and keyboard order; wider
    // layouts place the cards with grid areas in nebula.css.
    this._buildCpu();
    this._buildMemory();
    this._buildNetwork();
    this._buildLoad();
    this._buildSwap();
    this._buildFilesystems();
    this._buildDisks();
    this._buildUptime();
  }

  // ---- build ---------------------------------------------------------------

  _buildCpu() {
    const c = card("card-cpu", "CPU");
    this.cpu = {
      card: c,
      big: bigNumber("cpu-total", "%"),
      spark: new Sparkline({
        label: "CPU use",
        series: [{ name: "CPU", className: "s-cpu" }],
        max: 100,
        format: fmt.percent,
      }),
      cores: h("ol", { class: "cores", attrs: { "aria-label": "Per-core use" } }),
    };
    c.el.append(
      this.cpu.big.el,
      h("div", { class: "spark-wrap" }, this.cpu.spark.el),
      h("p", { class: "mini-label", attrs: { "aria-hidden": "true" }, text: "Per core" }),
      this.cpu.cores,
    );
    this.grid.append(c.el);
  }

  _buildMemory() {
    const c = card("card-memory", "Memory");
    const u = usage("mem", "Memory used");
    const spark = new Sparkline({
      label: "Memory use",
      series: [{ name: "Memory", className: "s-mem" }],
      max: 100,
      format: fmt.percent,
    });
    const stats = {
      available: stat("Available", "mem-available"),
      cached: stat("Cached", "mem-cached"),
      buffers: stat("Buffers", "mem-buffers"),
      free: stat("Free", "mem-free"),
    };
    c.el.append(
      u.big.el,
      u.used,
      u.bar.el,
      h("div", { class: "spark-wrap" }, spark.el),
      h("dl", { class: "stats stats-4" }, Object.values(stats).map((s) => s.el)),
    );
    this.mem = { card: c, ...u, spark, stats };
    this.grid.append(c.el);
  }

  _buildNetwork() {
    const c = card("card-network", "Network", { meta: "" });
    const rx = h("span", { class: "flow-value", id: "net-rx", text: fmt.DASH });
    const tx = h("span", { class: "flow-value", id: "net-tx", text: fmt.DASH });
    const flows = h(
      "div",
      { class: "flows" },
      h(
        "p",
        { class: "flow flow-rx" },
        h("span", { class: "flow-label" }, h("span", { class: "arrow", attrs: { "aria-hidden": "true" }, text: "↓" }), " Down"),
        rx,
      ),
      h(
        "p",
        { class: "flow flow-tx" },
        h("span", { class: "flow-label" }, h("span", { class: "arrow", attrs: { "aria-hidden": "true" }, text: "↑" }), " Up"),
        tx,
      ),
    );
    const spark = new Sparkline({
      label: "Network traffic",
      series: [
        { name: "down", className: "s-rx" },
        { name: "up", className: "s-tx" },
      ],
      format: fmt.rate,
    });
    const table = rateTable("net-rows", "Traffic per network interface", ["Interface", "Down", "Up"]);
    const toggle = h("input", { type: "checkbox", id: "show-loopback" });
    toggle.addEventListener("change", () => {
      this.showLoopback = toggle.checked;
      if (this.last) this._renderNetwork(this.last);
    });
    const toggleLabel = h(
      "label",
      { class: "toggle", htmlFor: "show-loopback" },
      toggle,
      h("span", { text: "Show loopback" }),
    );
    const empty = h("p", { class: "empty", text: "No interfaces reported.", hidden: true });
    c.el.append(
      flows,
      h("div", { class: "spark-wrap spark-tall" }, spark.el),
      table.el,
      empty,
      toggleLabel,
    );
    this.net = { card: c, rx, tx, spark, tbody: table.tbody, empty };
    this.grid.append(c.el);
  }

  _buildLoad() {
    const c = card("card-load", "Load average");
    const stats = {
      one: stat("1 min", "load-1"),
      five: stat("5 min", "load-5"),
      fifteen: stat("15 min", "load-15"),
    };
    const b = bar("1-minute load per core");
    const perCore = h("p", { class: "sub", id: "load-per-core", text: fmt.DASH });
    c.el.append(h("dl", { class: "stats stats-3 stats-big" }, Object.values(stats).map((s) => s.el)), b.el, perCore);
    this.load = { card: c, stats, bar: b, perCore };
    this.grid.append(c.el);
  }

  _buildSwap() {
    const c = card("card-swap", "Swap");
    const u = usage("swap", "Swap used");
    c.el.append(u.big.el, u.used, u.bar.el);
    this.swap = { card: c, ...u };
    this.grid.append(c.el);
  }

  _buildUptime() {
    const c = card("card-uptime", "Uptime");
    const value = h("p", { class: "big" }, h("span", { class: "big-value", id: "uptime", text: fmt.DASH }));
    const since = h("p", { class: "sub", id: "boot-time", text: "" });
    c.el.append(value, since);
    this.uptime = { card: c, value: value.firstChild, since };
    this.grid.append(c.el);
  }

  _buildFilesystems() {
    const c = card("card-filesystems", "Filesystems", { wide: true });
    const list = h("ul", { class: "fs-list", id: "fs-list" });
    const empty = h("p", { class: "empty", text: "No filesystems reported.", hidden: true });
    c.el.append(list, empty);
    this.fs = { card: c, list, empty };
    this.grid.append(c.el);
  }

  _buildDisks() {
    const c = card("card-disks", "Disk I/O");
    const table = rateTable("disk-rows", "Read and write rate per disk", ["Device", "Read", "Write"]);
    const empty = h("p", { class: "empty", text: "No disks reported.", hidden: true });
    c.el.append(table.el, empty);
    this.disks = { card: c, tbody: table.tbody, empty };
    this.grid.append(c.el);
  }

  // ---- update --------------------------------------------------------------

  /** Render one `telemetry.host` snapshot. */
  update(d) {
    if (!d || typeof d !== "object") return;
    this.last = d;
    this.receivedAt = Date.now();
    this.samples += 1;
    this.grid.dataset.sampleTimestamp = String(d.timestamp_ms ?? "");
    this.grid.dataset.samples = String(this.samples);
    this._renderCpu(d.cpu || {});
    this._renderMemory(d.memory || {});
    this._renderNetwork(d);
    this._renderLoad(d.load || {}, d.cpu || {});
    this._renderSwap(d.swap || {});
    this._renderUptime(d);
    this._renderFilesystems(Array.isArray(d.filesystems) ? d.filesystems : []);
    this._renderDisks(Array.isArray(d.disks) ? d.disks : []);
  }

  _renderCpu(cpu) {
    const total = cpu.total_percent;
    setText(this.cpu.big.value, fmt.percentNumber(total));
    this.cpu.big.value.dataset.level = level(total);
    this.cpu.spark.push(total);
    const cores = Array.isArray(cpu.per_core_percent) ? cpu.per_core_percent : [];
    const n = fmt.isNum(cpu.cores) ? cpu.cores : cores.length;
    setText(this.cpu.card.metaEl, n ? `${n} ${n === 1 ? "core" : "cores"}` : "");
    this.cpu.cores.dataset.count = String(cores.length);
    this.cpu.cores.dataset.density = cores.length > 32 ? "high" : cores.length > 16 ? "mid" : "low";
    syncList(
      this.cpu.cores,
      cores.map((p, i) => ({ i, p })),
      (c) => c.i,
      () => {
        const fill = h("span", { class: "core-fill" });
        const text = h("span", { class: "sr-only" });
        const li = h("li", { class: "core" }, h("span", { class: "core-bar", attrs: { "aria-hidden": "true" } }, fill), text);
        li._fill = fill;
        li._text = text;
        return li;
      },
      (li, { i, p }) => {
        const v = fmt.isNum(p) ? Math.min(Math.max(p, 0), 100) : 0;
        li._fill.style.transform = `scaleY(${(Math.max(v, 1.5) / 100).toFixed(3)})`;
        li.dataset.level = level(p);
        li.title = `Core ${i}: ${fmt.percent(p)}`;
        setText(li._text, `Core ${i}: ${fmt.percent(p)}`);
      },
    );
  }

  _renderMemory(m) {
    setUsage(this.mem, m);
    this.mem.spark.push(m.used_percent);
    setText(this.mem.stats.available.value, fmt.bytes(m.available_bytes));
    setText(this.mem.stats.cached.value, fmt.bytes(m.cached_bytes));
    setText(this.mem.stats.buffers.value, fmt.bytes(m.buffers_bytes));
    setText(this.mem.stats.free.value, fmt.bytes(m.free_bytes));
  }

  _renderNetwork(d) {
    const all = Array.isArray(d.network) ? d.network.filter((n) => n && typeof n.interface === "string") : [];
    const external = all.filter((n) => !isLoopback(n.interface));
    const sum = (k) => external.reduce((a, n) => a + (fmt.isNum(n[k]) ? n[k] : 0), 0);
    const rx = sum("rx_bytes_per_sec");
    const tx = sum("tx_bytes_per_sec");
    if (d !== this._netSampled) {
      // Toggling loopback re-renders without pushing a new sample.
      this._netSampled = d;
      this.net.spark.push(rx, tx);
    }
    setText(this.net.rx, external.length ? fmt.rate(rx) : fmt.DASH);
    setText(this.net.tx, external.length ? fmt.rate(tx) : fmt.DASH);
    const shown = this.showLoopback ? all : external;
    const hidden = all.length - shown.length;
    setText(
      this.net.card.metaEl,
      `${shown.length} ${shown.length === 1 ? "interface" : "interfaces"}${hidden ? ` · ${hidden} hidden` : ""}`,
    );
    this.net.empty.hidden = shown.length > 0;
    syncRates(this.net.tbody, shown, "interface", ["rx_bytes_per_sec", "tx_bytes_per_sec"]);
  }

  _renderLoad(l, cpu) {
    setText(this.load.stats.one.value, fmt.load(l.one));
    setText(this.load.stats.five.value, fmt.load(l.five));
    setText(this.load.stats.fifteen.value, fmt.load(l.fifteen));
    const cores = fmt.isNum(cpu.cores) && cpu.cores > 0 ? cpu.cores : null;
    if (cores && fmt.isNum(l.one)) {
      const per = (l.one / cores) * 100;
      setBar(this.load.bar, per, "1-minute load relative to core count");
      setText(this.load.perCore, `${fmt.load(l.one / cores)} per core · ${cores} ${cores === 1 ? "core" : "cores"}`);
    } else {
      setBar(this.load.bar, null);
      setText(this.load.perCore, fmt.DASH);
    }
  }

  _renderSwap(s) {
    const none = !fmt.isNum(s.total_bytes) || s.total_bytes <= 0;
    this.swap.card.el.classList.toggle("is-empty", none);
    if (none) {
      setText(this.swap.big.value, "Off");
      this.swap.big.unitEl.hidden = true;
      setText(this.swap.used, "No swap configured");
      setBar(this.swap.bar, 0);
      return;
    }
    this.swap.big.unitEl.hidden = false;
    setUsage(this.swap, s);
  }

  _renderUptime(d) {
    setText(this.uptime.value, fmt.duration(d.uptime_seconds));
    if (fmt.isNum(d.uptime_seconds) && fmt.isNum(d.timestamp_ms)) {
      setText(this.uptime.since, `since ${fmt.dateTime(d.timestamp_ms - d.uptime_seconds * 1000)}`);
    }
  }

  _renderFilesystems(list) {
    const items = list.filter((f) => f && typeof f.mount === "string");
    this.fs.empty.hidden = items.length > 0;
    setText(this.fs.card.metaEl, `${items.length} mounted`);
    syncList(
      this.fs.list,
      items,
      (f) => f.mount,
      () => {
        const mount = h("span", { class: "fs-mount" });
        const dev = h("span", { class: "fs-dev" });
        const pct = h("span", { class: "fs-pct" });
        const b = bar("");
        const usage = h("span", { class: "fs-usage" });
        const li = h(
          "li",
          { class: "fs" },
          h("div", { class: "fs-top" }, h("span", { class: "fs-name" }, mount, dev), pct),
          b.el,
          usage,
        );
        li._p = { mount, dev, pct, bar: b, usage };
        return li;
      },
      (li, f) => {
        const p = li._p;
        setText(p.mount, f.mount);
        p.mount.title = f.mount;
        setText(p.dev, [f.device, f.fs_type].filter((x) => typeof x === "string" && x).join(" · "));
        setText(p.pct, fmt.percent(f.used_percent));
        li.dataset.level = level(f.used_percent);
        setBar(p.bar, f.used_percent, `${f.mount} used`);
        setText(p.usage, `${fmt.bytes(f.used_bytes)} of ${fmt.bytes(f.total_bytes)} · ${fmt.bytes(f.available_bytes)} free`);
      },
    );
  }

  _renderDisks(list) {
    const items = list.filter((x) => x && typeof x.device === "string");
    this.disks.empty.hidden = items.length > 0;
    setText(this.disks.card.metaEl, `${items.length} ${items.length === 1 ? "device" : "devices"}`);
    syncRates(this.disks.tbody, items, "device", ["read_bytes_per_sec", "write_bytes_per_sec"]);
  }

  /**
   * Age of the newest sample in ms. Uses the server's timestamp when the
   * clocks roughly agree, else the time the sample arrived here.
   */
  age(now = Date.now()) {
    if (!this.last) return null;
    const ts = this.last.timestamp_ms;
    if (fmt.isNum(ts)) {
      const a = now - ts;
      if (a >= -5000 && a < 86400000) return Math.max(0, a);
    }
    return now - this.receivedAt;
  }
}
