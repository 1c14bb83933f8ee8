// Modal confirmation for destructive or account-changing actions, built on
// <dialog> (focus trap, Escape and the backdrop come from the browser). Every
// destructive action says what it will do, asks once, and shows the server's
// refusal inside the dialog so the person can correct and retry.

import { h } from "./dom.js";
import { busy, errorBox, field, onSubmit, show, uid } from "./forms.js";
import { describe } from "./messages.js";

/**
 * @param {object} o
 * @param {string} o.title
 * @param {string} [o.text]            what will happen, in plain words
 * @param {Array<object>} [o.fields]   props for forms.field (name, label, type, …)
 * @param {string} o.confirm           label of the confirming button
 * @param {boolean} [o.danger]         style the confirming button as destructive
 * @param {(values: Record<string,string>) => (string|null)} [o.validate] a message blocks submitting
 * @param {(values: Record<string,string>) => Promise<any>} [o.action]
 *        runs before the dialog closes; if it throws, the error is shown and the dialog stays
 * @param {Record<string, string|Function>} [o.errors] overrides for messages.describe
 * @returns {Promise<any|null>} the action's result (or true), null when cancelled
 */
export function openDialog(o) {
  const opener = document.activeElement;
  const titleId = uid("dlg-title");
  const textId = uid("dlg-text");
  const error = errorBox();
  const inputs = (o.fields || []).map((f) => field({ required: true, ...f }));
  const cancel = h("button", { type: "button", class: "btn btn-quiet", text: "Cancel" });
  const confirm = h("button", {
    type: "submit",
    class: `btn ${o.danger ? "btn-danger" : "btn-primary"}`,
    text: o.confirm,
  });
  const form = h(
    "form",
    { class: "dialog-form", noValidate: true },
    h("h2", { id: titleId, text: o.title }),
    o.text ? h("p", { id: textId, class: "dialog-text", text: o.text }) : null,
    inputs.map((f) => f.el),
    error,
    h("div", { class: "dialog-actions" }, cancel, confirm),
  );
  const dlg = h(
    "dialog",
    { class: "dialog panel", attrs: { "aria-labelledby": titleId, ...(o.text ? { "aria-describedby": textId } : {}) } },
    form,
  );
  document.body.append(dlg);

  return new Promise((resolve) => {
    let outcome = null;
    const finish = (value) => {
      outcome = value;
      if (dlg.open) dlg.close();
    };
    dlg.addEventListener("close", () => {
      dlg.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(outcome);
    });
    cancel.addEventListener("click", () => finish(null));
    onSubmit(form, { error, inputs: inputs.map((f) => f.input) }, async (reject) => {
      const values = Object.fromEntries(inputs.map((f) => [f.input.name, f.input.value]));
      const empty = inputs.find((f) => !f.input.value);
      if (empty) {
        reject(empty.input, `Enter the ${empty.el.querySelector("label").textContent.toLowerCase()}.`);
        return;
      }
      const problem = o.validate ? o.validate(values) : null;
      if (problem) {
        show(error, problem);
        return;
      }
      if (!o.action) {
        finish(true);
        return;
      }
      await busy(confirm, async () => {
        try {
          const result = await o.action(values);
          finish(result ?? true);
        } catch (err) {
          show(error, describe(err, o.errors));
          const first = inputs[0];
          if (first) {
            first.input.select();
            first.input.focus();
          }
        }
      });
    });
    dlg.showModal();
    // A question about destroying something starts on "Cancel"; one that asks for input, on the input.
    (inputs[0]?.input ?? (o.danger ? cancel : confirm)).focus();
  });
}

/** Ask once; resolves true when confirmed (and the action, if any, succeeded). */
export async function confirmAction(o) {
  return (await openDialog(o)) !== null;
}

/** Close every open dialog, e.g. when the session ends underneath them. */
export function closeAll() {
  for (const d of document.querySelectorAll("dialog[open]")) d.close();
}
