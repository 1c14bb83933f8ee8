// Time-series line chart in inline SVG for history data (min/avg/max per
// bucket): one line per series over a shared time axis. The plot stretches
// to its box; labels are HTML around it so they stay readable at any width.

import { h, svgEl } from "./dom.js";

const W = 600;
const H = 160;

const clock = (ms, span) =>
  new Date(ms).toLocaleString(undefined, span > 86400000 ? { month: "short", day: "numeric" } : { hour: "2-digit", minute: "2-digit" });

export class TimeChart {
  /**
   * @param {object} o
   * @param {string} o.title
   * @param {Array<{name: string, className: string}>} o.series
   * @param {(v: number) => string} o.format
   * @param {number|null} [o.max] fixed top (100 for percent); null = from the data
   */
  constructor({ title, series, format, max = null }) {
    this.format = format;
    this.max = max;
    this.series = series;
    this.svg = svgEl("svg", { class: "chart-plot", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", focusable: "false" });
    this.svgTitle = svgEl("title");
    this.svg.append(this.svgTitle);
    for (const y of [0.25, 0.5, 0.75]) {
      this.svg.append(svgEl("line", { class: "chart-grid", x1: 0, x2: W, y1: H * y, y2: H * y, "vector-effect": "non-scaling-stroke" }));
    }
    this.paths = series.map((s) => {
      const band = svgEl("path", { class: `chart-band ${s.className}` });
      const line = svgEl("path", { class: `chart-line ${s.className}`, "vector-effect": "non-scaling-stroke" });
      this.svg.append(band, line);
      return { band, line };
    });
    this.top = h("span", { class: "chart-top" });
    this.now = series.map((s) => h("span", { class: "chart-now", text: "—" }));
    this.from = h("span");
    this.to = h("span");
    this.empty = h("p", { class: "chart-empty", text: "No data for this range yet.", hidden: true });
    this.el = h(
      "figure",
      { class: "chart" },
      h(
        "figcaption",
        { class: "chart-head" },
        h("span", { class: "chart-title", text: title }),
        h(
          "span",
          { class: "chart-legend" },
          series.map((s, i) => h("span", { class: `chart-key ${s.className}` }, series.length > 1 ? `${s.name} ` : "", this.now[i])),
        ),
      ),
      h("div", { class: "chart-box" }, this.svg, this.top, this.empty),
      h("div", { class: "chart-axis" }, this.from, this.to),
    );
  }

  /** The newest live value per series (shown in the legend). */
  live(...values) {
    values.forEach((v, i) => {
      if (this.now[i]) this.now[i].textContent = this.format(v);
    });
  }

  /**
   * @param {Array<Array<{t: number, min?: number, avg: number, max?: number}>>} data one list per series
   * @param {number} from ms
   * @param {number} to ms
   */
  set(data, from, to) {
    const span = Math.max(1, to - from);
    let top = this.max;
    if (top === null) {
      top = 0;
      for (const pts of data) for (const p of pts) top = Math.max(top, p.max ?? p.avg);
      top = top > 0 ? top * 1.1 : 1;
    }
    const x = (t) => (((t - from) / span) * W).toFixed(1);
    const y = (v) => (H - (Math.min(Math.max(v, 0), top) / top) * H).toFixed(1);
    let points = 0;
    data.forEach((pts, i) => {
      const p = this.paths[i];
      if (!p) return;
      points += pts.length;
      p.line.setAttribute("d", pts.map((q, j) => `${j ? "L" : "M"}${x(q.t)} ${y(q.avg)}`).join(""));
      // The min–max band shows the spread a rolled-up bucket hides.
      const upper = pts.map((q, j) => `${j ? "L" : "M"}${x(q.t)} ${y(q.max ?? q.avg)}`).join("");
      const lower = pts
        .slice()
        .reverse()
        .map((q) => `L${x(q.t)} ${y(q.min ?? q.avg)}`)
        .join("");
      p.band.setAttribute("d", pts.length > 1 ? `${upper}${lower}Z` : "");
    });
    this.top.textContent = this.format(top);
    this.from.textContent = clock(from, span);
    this.to.textContent = clock(to, span);
    this.empty.hidden = points > 0;
    const summary = data
      .map((pts, i) => {
        if (!pts.length) return "";
        const vals = pts.map((q) => q.avg);
        return `${this.series[i].name}: min ${this.format(Math.min(...vals))}, max ${this.format(Math.max(...vals))}`;
      })
      .filter(Boolean)
      .join("; ");
    this.svgTitle.textContent = summary || "No data";
    this.svg.setAttribute("aria-label", summary || "No data");
  }
}
