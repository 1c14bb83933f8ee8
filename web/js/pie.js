// An SVG pie (a ring) of parts of a whole, with a legend. Colours come from
// the `pie-<n>` classes, so the palette lives in the stylesheet.

import { h, svgEl } from "./dom.js";

const R = 40;
const C = 2 * Math.PI * R;

/**
 * @param {Array<{label: string, value: number}>} parts
 * @param {(v: number) => string} format
 * @returns {HTMLElement}
 */
export function pie(parts, format, title) {
  const shown = parts.filter((p) => Number.isFinite(p.value) && p.value > 0);
  const total = shown.reduce((s, p) => s + p.value, 0);
  const svg = svgEl("svg", { class: "pie", viewBox: "0 0 100 100", role: "img", focusable: "false" });
  const label = `${title}: ${shown.map((p) => `${p.label} ${format(p.value)}`).join(", ") || "nothing measured"}`;
  svg.setAttribute("aria-label", label);
  const t = svgEl("title");
  t.textContent = label;
  svg.append(t, svgEl("circle", { class: "pie-track", cx: 50, cy: 50, r: R }));
  // Each slice is a dashed stroke of the same circle, rotated to where the previous one ended.
  let start = 0;
  shown.forEach((p, i) => {
    const len = (p.value / total) * C;
    svg.append(
      svgEl("circle", {
        class: `pie-slice pie-${i % 8}`,
        cx: 50,
        cy: 50,
        r: R,
        "stroke-dasharray": `${len.toFixed(3)} ${(C - len).toFixed(3)}`,
        "stroke-dashoffset": (-start).toFixed(3),
        transform: "rotate(-90 50 50)",
      }),
    );
    start += len;
  });
  const legend = h(
    "ul",
    { class: "pie-legend" },
    shown.map((p, i) =>
      h(
        "li",
        {},
        h("span", { class: `pie-swatch pie-${i % 8}`, attrs: { "aria-hidden": "true" } }),
        h("span", { class: "pie-label", text: p.label }),
        h("span", { class: "pie-value", text: `${format(p.value)} · ${((p.value / total) * 100).toFixed(0)} %` }),
      ),
    ),
  );
  return h("div", { class: "pie-wrap" }, svg, legend);
}
