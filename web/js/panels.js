// Page sections. Each panel is named by its heading (aria-labelledby), so
// screen-reader users can list a page's sections and jump to one by name.

import { h } from "./dom.js";

/**
 * A panel: a heading, then the content.
 * @param {object} o
 * @param {string} o.id              the heading's id
 * @param {string} o.title
 * @param {string} [o.className]     more classes, e.g. "span-2"
 * @param {Array<Node>|Node} [o.aside] beside the heading (a badge, a control, a note)
 * @param {boolean} [o.plain]        a plain heading; otherwise the heading is a small
 *                                   caption in a head row, with `aside` at its end
 * @param {...(Node|null)} children
 * @returns {HTMLElement}
 */
export function panel({ id, title, className = "", aside = [], plain = false }, ...children) {
  const heading = h("h2", { id, text: title });
  return h(
    "section",
    { class: `panel panel-pad${className ? ` ${className}` : ""}`, attrs: { "aria-labelledby": id } },
    plain ? heading : h("div", { class: "panel-head" }, heading, aside),
    children,
  );
}
