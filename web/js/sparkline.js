// Inline-SVG sparklines. Keeps the last `capacity` samples in memory per
// series and redraws a polyline (plus a soft area under the first series).

import { svgEl } from "./dom.js";

const W = 120;
const H = 32;
let gradientSeq = 0;

export class Sparkline {
  /**
   * @param {object} o
   * @param {string} o.label      accessible name, e.g. "CPU, last minute"
   * @param {Array<{name: string, className: string}>} o.series
   * @param {number} [o.capacity=60]
   * @param {number|null} [o.max] fixed top of the scale (e.g. 100 for percent); null = auto
   * @param {(v: number) => string} [o.format] for the accessible summary
   */
  constructor({ label, series, capacity = 60, max = null, format = (v) => String(v) }) {
    this.label = label;
    this.capacity = capacity;
    this.max = max;
    this.format = format;
    this.series = series.map((s) => ({ ...s, values: [] }));

    const gid = `spark-grad-${++gradientSeq}`;
    this.el = svgEl("svg", {
      class: "spark",
      viewBox: `0 0 ${W} ${H}`,
      preserveAspectRatio: "none",
      role: "img",
      focusable: "false",
    });
    this.title = svgEl("title");
    this.el.append(this.title);
    const defs = svgEl("defs");
    const grad = svgEl("linearGradient", { id: gid, x1: "0", y1: "0", x2: "0", y2: "1" });
    grad.append(
      svgEl("stop", { offset: "0%", class: "spark-stop-top" }),
      svgEl("stop", { offset: "100%", class: "spark-stop-bottom" }),
    );
    defs.append(grad);
    this.el.append(defs);
    this.area = svgEl("path", { class: `spark-area ${this.series[0].className}`, fill: `url(#${gid})` });
    this.el.append(this.area);
    for (const s of this.series) {
      s.path = svgEl("path", { class: `spark-line ${s.className}`, "vector-effect": "non-scaling-stroke" });
      this.el.append(s.path);
    }
    this._summary();
  }

  /** Append one sample per series (same order as `series`). */
  push(...values) {
    this.series.forEach((s, i) => {
      const v = Number(values[i]);
      s.values.push(Number.isFinite(v) ? v : 0);
      if (s.values.length > this.capacity) s.values.shift();
    });
    this.draw();
  }

  draw() {
    let top = this.max;
    if (top === null) {
      top = 0;
      for (const s of this.series) for (const v of s.values) top = Math.max(top, v);
      top = top > 0 ? top * 1.15 : 1;
    }
    // Until the buffer is full the samples are spread over the whole width.
    const longest = Math.max(...this.series.map((s) => s.values.length));
    const step = W / Math.max(1, Math.min(this.capacity, Math.max(longest, 2)) - 1);
    const pad = 1.5; // keep the stroke inside the box
    const y = (v) => H - pad - (Math.min(Math.max(v, 0), top) / top) * (H - 2 * pad);
    this.series.forEach((s, i) => {
      const n = s.values.length;
      if (n === 0) {
        s.path.setAttribute("d", "");
        if (i === 0) this.area.setAttribute("d", "");
        return;
      }
      const x0 = W - (n - 1) * step; // newest sample sits on the right edge
      let d = "";
      s.values.forEach((v, j) => {
        d += `${j === 0 ? "M" : "L"}${(x0 + j * step).toFixed(2)} ${y(v).toFixed(2)}`;
      });
      if (n === 1) d += `L${W} ${y(s.values[0]).toFixed(2)}`;
      s.path.setAttribute("d", d);
      if (i === 0) {
        this.area.setAttribute("d", `${d}L${W} ${H}L${Math.min(x0, W - 0.01).toFixed(2)} ${H}Z`);
      }
    });
    this._summary();
  }

  _summary() {
    const parts = this.series
      .filter((s) => s.values.length)
      .map((s) => {
        const lo = Math.min(...s.values);
        const hi = Math.max(...s.values);
        const name = this.series.length > 1 ? `${s.name} ` : "";
        return `${name}min ${this.format(lo)}, max ${this.format(hi)}`;
      });
    const text = parts.length
      ? `${this.label}: ${parts.join("; ")} over the last ${this.series[0].values.length} samples`
      : `${this.label}: no samples yet`;
    this.title.textContent = text;
    this.el.setAttribute("aria-label", text);
  }
}
