// The Notices panel on the overview: short messages operators leave for
// everyone looking at the dashboard, carried by the `app.notices` channel.
// Anyone signed in reads them; operators and admins post them (the server
// decides: a viewer's post is refused with 403, and the page says so).
// Notices are data from other people, so they only ever go in as text.

import * as api from "./api.js";
import { h } from "./dom.js";
import { errorBox, hide, onSubmit, show, statusBox, uid } from "./forms.js";
import { describe } from "./messages.js";
import { timeEl } from "./timeago.js";

export const CHANNEL = "app.notices";
const KEEP = 30;
const MAX_TEXT = 280;

/** Make sense of whatever was published, since any publisher may post here. */
function normalize(data, receivedAt) {
  if (typeof data === "string") return { text: data, by: null, at: receivedAt };
  if (!data || typeof data !== "object") return { text: JSON.stringify(data), by: null, at: receivedAt };
  const text = typeof data.text === "string" ? data.text : JSON.stringify(data);
  const by = typeof data.by === "string" && data.by ? data.by : null;
  const at = typeof data.at === "string" && Number.isFinite(Date.parse(data.at)) ? data.at : receivedAt;
  return { text, by, at };
}

export class NoticesPanel {
  /** @param {HTMLElement} root the (empty) panel section */
  constructor(root) {
    this.root = root;
    this.items = new Map(); // offset -> notice, within this.epoch
    this.epoch = null;
    this.unsubscribe = null;
    this.byName = "";

    const titleId = "notices-title";
    const inputId = uid("notice-text");
    const noteId = uid("notice-note");
    this.list = h("ol", { class: "notice-list", attrs: { role: "log", "aria-labelledby": titleId } });
    this.empty = h("p", { class: "empty", text: "No notices in the last 10 minutes." });
    this.input = h("input", {
      id: inputId,
      name: "text",
      type: "text",
      maxLength: MAX_TEXT,
      autocomplete: "off",
      placeholder: "e.g. Rebooting the NAS at 22:00",
    });
    this.button = h("button", { type: "submit", class: "btn btn-primary", text: "Post" });
    this.note = h("p", { class: "hint small", id: noteId, hidden: true });
    this.error = errorBox();
    this.status = statusBox();
    this.form = h(
      "form",
      { class: "notice-form", noValidate: true },
      h("label", { htmlFor: inputId, text: "Post a notice" }),
      h("div", { class: "inline-field" }, this.input, this.button),
      this.note,
      this.error,
      this.status,
    );
    onSubmit(this.form, {}, () => this._post());

    root.append(
      h(
        "div",
        { class: "panel-head" },
        h("h2", { id: titleId, text: "Notices" }),
        h("span", { class: "panel-meta", text: "Live for everyone signed in" }),
      ),
      this.list,
      this.empty,
      this.form,
    );
  }

  /**
   * Who is posting, and whether they may. A viewer sees the form disabled,
   * with the reason next to it.
   */
  setAuthor({ name, mayPost }) {
    this.byName = name;
    this.input.disabled = !mayPost;
    this.button.disabled = !mayPost;
    if (mayPost) {
      this.note.hidden = true;
      this.input.removeAttribute("aria-describedby");
    } else {
      this.note.textContent = "Viewers can read notices but not post them.";
      this.note.hidden = false;
      this.input.setAttribute("aria-describedby", this.note.id);
    }
  }

  /** Follow the channel on a (new) connection. */
  attach(connection) {
    this.detach();
    this.connection = connection;
    this.unsubscribe = connection.subscribe(CHANNEL, {
      onPublication: (data, pub) => this._add(pub.offset, data),
      onSubscribed: (result) => this._loadHistory(result.epoch),
      onReset: () => this._clear(),
      onError: (err) => show(this.error, `Notices unavailable: ${err.message}`),
    });
  }

  detach() {
    if (this.unsubscribe) this.unsubscribe();
    this.unsubscribe = null;
    this.connection = null;
  }

  /** Forget everything shown (signing out). */
  reset() {
    this.detach();
    this._clear();
    hide(this.error);
    hide(this.status);
    this.input.value = "";
  }

  _clear() {
    this.items.clear();
    this.epoch = null;
    this._render();
  }

  async _loadHistory(epoch) {
    if (epoch !== this.epoch) {
      this.items.clear();
      this.epoch = epoch;
    }
    const conn = this.connection;
    let result;
    try {
      result = await conn.history(CHANNEL, KEEP);
    } catch {
      return; // live notices still arrive; history is a nicety
    }
    if (conn !== this.connection || result.epoch !== this.epoch) return;
    for (const pub of result.publications || []) this._add(pub.offset, pub.data, false);
    this._render();
  }

  _add(offset, data, render = true) {
    if (typeof offset !== "number" || this.items.has(offset)) return;
    this.items.set(offset, normalize(data, new Date().toISOString()));
    if (render) this._render(offset);
  }

  _row(offset, fresh) {
    const n = this.items.get(offset);
    return h(
      "li",
      { class: `notice${fresh ? " is-new" : ""}`, dataset: { offset: String(offset) } },
      h("p", { class: "notice-text", text: n.text }),
      h("p", { class: "notice-meta" }, h("span", { class: "notice-by", text: n.by ?? "someone" }), " · ", timeEl(n.at)),
    );
  }

  /**
   * A live notice is inserted on its own, so the log region announces just
   * that one; history and resets rebuild the list.
   */
  _render(fresh) {
    const newest = [...this.items.keys()].sort((a, b) => b - a);
    for (const k of newest.slice(KEEP)) this.items.delete(k);
    if (fresh !== undefined) {
      const row = this._row(fresh, true);
      const after = [...this.list.children].find((li) => Number(li.dataset.offset) < fresh);
      this.list.insertBefore(row, after ?? null);
      while (this.list.children.length > KEEP) this.list.lastElementChild.remove();
    } else {
      this.list.replaceChildren(...newest.slice(0, KEEP).map((offset) => this._row(offset, false)));
    }
    this.empty.hidden = this.items.size > 0;
  }

  async _post() {
    hide(this.error);
    hide(this.status);
    const text = this.input.value.trim();
    if (!text) {
      show(this.error, "Write the notice first.");
      this.input.focus();
      return;
    }
    if (this.button.dataset.busy) return;
    this.button.dataset.busy = "1";
    try {
      await api.post("/api/v1/publish", {
        channel: CHANNEL,
        data: { text, by: this.byName, at: new Date().toISOString() },
      });
      this.input.value = "";
      show(this.status, "Posted.");
      setTimeout(() => hide(this.status), 3000);
    } catch (err) {
      show(this.error, describe(err));
    } finally {
      delete this.button.dataset.busy;
    }
  }
}
