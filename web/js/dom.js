// Tiny DOM helpers. Text always goes in through textContent, never innerHTML:
// hostnames, interface names and mount paths come from the server.

/**
 * Create an element. `props` may hold `class`, `text`, `attrs` (object of
 * attributes), `dataset`, and any other own property (set directly).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "attrs") for (const [a, av] of Object.entries(v)) el.setAttribute(a, av);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el[k] = v;
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an SVG element (charts, sparklines, pies) with these attributes. */
export function svgEl(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/** Set textContent only when it changed (avoids needless layout work). */
export function setText(el, text) {
  const t = String(text);
  if (el.textContent !== t) el.textContent = t;
}

/**
 * Keep `container`'s children in step with `items`, keyed by `key(item)`.
 * `create(item)` builds a row (an Element); `update(row, item)` refreshes it.
 * Rows are reused across updates so focus and transitions survive.
 */
export function syncList(container, items, key, create, update) {
  const existing = new Map();
  for (const child of Array.from(container.children)) {
    if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  }
  let prev = null;
  for (const item of items) {
    const k = String(key(item));
    let row = existing.get(k);
    if (row) existing.delete(k);
    else {
      row = create(item);
      row.dataset.key = k;
    }
    update(row, item);
    const want = prev ? prev.nextSibling : container.firstChild;
    if (row !== want) container.insertBefore(row, want);
    prev = row;
  }
  for (const row of existing.values()) row.remove();
}
