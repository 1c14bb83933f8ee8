// Building blocks for the forms of the account and admin pages: labelled
// fields, error and status lines that screen readers announce, and a busy
// state so a slow request cannot be sent twice.

import { h } from "./dom.js";

let seq = 0;
export function uid(prefix) {
  seq += 1;
  return `${prefix}-${seq}`;
}

/**
 * A label, an input and an optional hint, tied together with ids.
 * Extra props go to the input (type, autocomplete, required, maxLength, …).
 * @returns {{el: HTMLElement, input: HTMLInputElement}}
 */
export function field({ label, hint, id = uid("f"), ...inputProps }) {
  const input = h("input", { id, type: "text", ...inputProps });
  const el = h("div", { class: "field" }, h("label", { htmlFor: id, text: label }), input);
  if (hint) {
    const hintId = `${id}-hint`;
    el.append(h("p", { class: "hint small", id: hintId, text: hint }));
    input.setAttribute("aria-describedby", hintId);
  }
  return { el, input };
}

/** @param {Array<[string, string]>} options value/label pairs */
export function selectField({ label, options, value, id = uid("s"), ...props }) {
  const select = h("select", { id, ...props }, options.map(([v, t]) => h("option", { value: v, text: t })));
  if (value !== undefined) select.value = value;
  const el = h("div", { class: "field" }, h("label", { htmlFor: id, text: label }), select);
  return { el, input: select };
}

/** An error line: role=alert, so it is read out when it appears. */
export function errorBox() {
  return h("p", { class: "form-error", attrs: { role: "alert" }, hidden: true });
}

/** A success line, announced politely. */
export function statusBox() {
  return h("p", { class: "form-ok", attrs: { role: "status" }, hidden: true });
}

export function show(box, text) {
  box.textContent = text;
  box.hidden = !text;
}

export function hide(box) {
  box.textContent = "";
  box.hidden = true;
}

export function invalid(input, yes, box, text) {
  if (yes) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  if (box && yes) show(box, text);
  if (yes) input.focus();
  return yes;
}

/**
 * Handle a form in script instead of the browser's own submission (a page
 * load). Before `handler` runs, the previous attempt's `error` and `ok` lines
 * and the invalid marks on `inputs` are cleared. `handler` gets
 * `reject(input, text)`: it marks the input invalid, says why in the error
 * line and puts focus there, so the person can correct it at once.
 * @param {HTMLFormElement} form
 * @param {{error?: HTMLElement|null, ok?: HTMLElement|null, inputs?: HTMLElement[]}} feedback
 * @param {(reject: (input: HTMLElement, text: string) => void) => unknown} handler
 */
export function onSubmit(form, { error = null, ok = null, inputs = [] }, handler) {
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (error) hide(error);
    if (ok) hide(ok);
    for (const input of inputs) input.removeAttribute("aria-invalid");
    return handler((input, text) => {
      invalid(input, true, error, text);
    });
  });
}

/** Run `fn` with `button` disabled and marked busy; resolves with fn's result. */
export async function busy(button, fn) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/**
 * A form of stacked fields, checked by script (noValidate: the messages are
 * ours, and read out), ending in a row of buttons: the primary submit
 * button, then `buttons`.
 * @param {object} o
 * @param {string} o.id
 * @param {string} o.submit          the submit button's label
 * @param {HTMLElement[]} [o.buttons]
 * @param {...(Node|null)} content
 * @returns {{form: HTMLFormElement, submit: HTMLButtonElement}}
 */
export function stackForm({ id, submit: label, buttons = [] }, ...content) {
  const submit = button(label, { kind: "primary", type: "submit" });
  const form = h("form", { class: "stack", noValidate: true, id }, content, h("div", { class: "actions" }, submit, buttons));
  return { form, submit };
}

/** A `.btn` button. */
export function button(text, { kind = "", type = "button", ...props } = {}) {
  return h("button", { type, class: `btn${kind ? ` btn-${kind}` : ""}`, text, ...props });
}
