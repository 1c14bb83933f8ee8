// The data tables of the admin pages (users, keys, audit log).

import { h } from "./dom.js";

/**
 * A table with a caption for screen readers and one header row, inside a
 * wrapper that scrolls sideways on its own, so a wide table never widens
 * the page on a phone.
 * @param {object} o
 * @param {string} o.id
 * @param {string} o.caption         read out only
 * @param {string[]} o.columns       header texts
 * @param {HTMLTableSectionElement} o.tbody
 * @param {string} [o.className]     more classes for the table
 * @returns {HTMLElement} the wrapper
 */
export function dataTable({ id, caption, columns, tbody, className = "" }) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: `table data-table${className ? ` ${className}` : ""}`, id },
      h("caption", { class: "sr-only", text: caption }),
      h("thead", {}, h("tr", {}, columns.map((t) => h("th", { scope: "col", text: t })))),
      tbody,
    ),
  );
}
