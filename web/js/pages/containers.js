// Containers page: every container of the engine, grouped by compose
// project, with live CPU and memory (and their recent line), state and
// health, ports, and the actions that fit the state. Fed by the shared
// ContainerStore, so it renders at once when opened.

import { mayChange, syncActions } from "../container-actions.js";
import { showState } from "../container-state.js";
import { h, setText, syncList } from "../dom.js";
import * as fmt from "../format.js";
import { detailHref } from "../router.js";
import { Sparkline } from "../sparkline.js";

const STANDALONE = "\u0000standalone"; // sorts first, cannot clash with a project name

export class ContainersPage {
  /**
   * @param {HTMLElement} root
   * @param {object} ctx
   * @param {import("../containers-store.js").ContainerStore} ctx.store
   */
  constructor(root, { store }) {
    this.root = root;
    this.store = store;
    this.visible = false;
    this.onChange = () => this.render();

    this.heading = h("h1", { id: "containers-title", tabIndex: -1, text: "Containers" });
    this.summary = h("p", { class: "updated", id: "containers-summary", text: "Waiting for the first sample…" });
    this.search = h("input", {
      type: "search",
      id: "containers-search",
      class: "search-input",
      placeholder: "Filter by name, image or project",
      autocomplete: "off",
      spellcheck: false,
      attrs: { "aria-label": "Filter containers" },
    });
    this.search.addEventListener("input", () => this.render());
    this.banner = h("p", { class: "banner banner-crit", id: "containers-engine", attrs: { role: "alert" }, hidden: true });
    this.viewerNote = h("p", { class: "hint small", id: "containers-viewer-note", hidden: true, text: "You can watch containers; changing them needs an operator or admin account." });
    this.groups = h("div", { class: "ctr-groups", id: "containers-groups" });
    this.empty = h("p", { class: "empty", hidden: true });
    root.append(
      h("div", { class: "section-head" }, this.heading, this.summary),
      h("div", { class: "toolbar" }, this.search),
      this.banner,
      this.viewerNote,
      this.empty,
      this.groups,
    );
  }

  show() {
    this.visible = true;
    this.store.addEventListener("change", this.onChange);
    this.render();
  }

  hide() {
    this.visible = false;
    this.store.removeEventListener("change", this.onChange);
  }

  reset() {
    this.hide();
    this.groups.replaceChildren();
    this.search.value = "";
  }

  render() {
    if (!this.visible) return;
    const engine = this.store.engine();
    const error = this.store.error || (engine && engine.status !== "ok" ? engine.error || "the engine is unavailable" : "");
    this.banner.hidden = !error;
    if (error) setText(this.banner, `Container engine unavailable: ${error}`);
    this.viewerNote.hidden = mayChange();

    const all = this.store.containers();
    const q = this.search.value.trim().toLowerCase();
    const shown = all.filter((c) => !q || [c.name, c.image, c.compose_project].some((v) => typeof v === "string" && v.toLowerCase().includes(q)));
    const running = all.filter((c) => c.state === "running").length;
    if (this.store.snapshot) {
      setText(this.summary, `${all.length} container${all.length === 1 ? "" : "s"}, ${running} running`);
    }
    this.empty.hidden = shown.length > 0 || !this.store.snapshot || Boolean(error);
    setText(this.empty, q ? `No container matches “${this.search.value.trim()}”.` : "The engine has no containers.");

    const byGroup = new Map();
    for (const c of shown) {
      const g = typeof c.compose_project === "string" && c.compose_project ? c.compose_project : STANDALONE;
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g).push(c);
    }
    const groups = [...byGroup.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, list]) => ({ name, list }));
    syncList(
      this.groups,
      groups,
      (g) => g.name,
      (g) => this._group(g),
      (el, g) => this._updateGroup(el, g),
    );
  }

  _group(g) {
    const title = h("h2", { class: "ctr-group-title" });
    const list = h("div", { class: "ctr-list" });
    const el = h("section", { class: "ctr-group" }, title, list);
    el._title = title;
    el._list = list;
    return el;
  }

  _updateGroup(el, g) {
    const standalone = g.name === STANDALONE;
    setText(el._title, standalone ? "Standalone" : `Compose project · ${g.name}`);
    el.dataset.project = standalone ? "" : g.name;
    const list = g.list.slice().sort((a, b) => a.name.localeCompare(b.name));
    syncList(
      el._list,
      list,
      (c) => c.id,
      (c) => this._card(c),
      (card, c) => this._updateCard(card, c),
    );
  }

  _card(c) {
    const r = {};
    r.name = h("a", { class: "ctr-name" });
    r.state = h("span", { class: "badge ctr-state" });
    r.health = h("span", { class: "badge ctr-health" });
    r.image = h("p", { class: "ctr-image" });
    r.cpu = h("span", { class: "ctr-value ctr-cpu" });
    r.mem = h("span", { class: "ctr-value ctr-mem" });
    r.cpuSpark = new Sparkline({ label: "CPU, recent samples", series: [{ name: "CPU", className: "s-cpu" }], capacity: 30, format: fmt.percent });
    r.memSpark = new Sparkline({ label: "Memory, recent samples", series: [{ name: "Memory", className: "s-mem" }], capacity: 30, format: fmt.bytes });
    r.status = h("span", { class: "ctr-status" });
    r.restarts = h("span", { class: "ctr-restarts" });
    r.ports = h("span", { class: "chips ctr-ports" });
    r.actions = h("div", { class: "ctr-actions" });
    const card = h(
      "article",
      { class: "panel ctr-card" },
      h("header", { class: "ctr-head" }, r.name, h("span", { class: "ctr-badges" }, r.state, r.health)),
      r.image,
      h(
        "div",
        { class: "ctr-metrics" },
        h("div", { class: "ctr-metric" }, h("span", { class: "ctr-label", text: "CPU" }), r.cpu, r.cpuSpark.el),
        h("div", { class: "ctr-metric" }, h("span", { class: "ctr-label", text: "Memory" }), r.mem, r.memSpark.el),
      ),
      h("p", { class: "ctr-meta" }, r.status, r.restarts, r.ports),
      r.actions,
    );
    card._r = r;
    return card;
  }

  _updateCard(card, c) {
    const r = card._r;
    card.dataset.name = c.name;
    card.dataset.state = c.state ?? "";
    setText(r.name, c.name);
    r.name.href = detailHref("containers", c.name);
    showState(r.state, r.health, c);
    setText(r.image, c.image ?? "");
    r.image.title = c.image ?? "";
    const live = c.state === "running";
    setText(r.cpu, live ? fmt.percent(c.cpu_percent) : fmt.DASH);
    let mem = live ? fmt.bytes(c.memory_bytes) : fmt.DASH;
    if (live && fmt.isNum(c.memory_limit_bytes) && fmt.isNum(c.memory_percent) && c.memory_percent >= 1) mem += ` · ${fmt.percent(c.memory_percent)}`;
    setText(r.mem, mem);
    const s = this.store.samples(c.name);
    drawSpark(r.cpuSpark, s.cpu);
    drawSpark(r.memSpark, s.mem);
    setText(r.status, c.status ?? "");
    const restarts = Number(c.restart_count) || 0;
    setText(r.restarts, restarts ? `restarted ${restarts}×` : "");
    r.restarts.hidden = !restarts;
    r.restarts.dataset.tone = restarts ? "warn" : "";
    const ports = Array.isArray(c.ports) ? c.ports : [];
    const portText = ports
      .filter((p) => p && p.private_port)
      .map((p) => (p.public_port ? `${p.public_port}→${p.private_port}/${p.type ?? "tcp"}` : `${p.private_port}/${p.type ?? "tcp"}`));
    const uniq = [...new Set(portText)];
    if (r.ports.dataset.v !== uniq.join(",")) {
      r.ports.dataset.v = uniq.join(",");
      r.ports.replaceChildren(...uniq.map((t) => h("span", { class: "chip", text: t })));
    }
    syncActions(r.actions, c);
  }
}

function drawSpark(spark, points) {
  const key = points.length ? `${points.length}:${points[points.length - 1].t}:${points[0].t}` : "0";
  if (spark._key === key) return;
  spark._key = key;
  spark.series[0].values = points.map((p) => p.v);
  spark.draw();
}
