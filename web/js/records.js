// The record list of an admin page (users, keys): the records from one GET,
// the table body that shows them with its empty-state line, and the page's
// error and status lines.

import * as api from "./api.js";
import { h } from "./dom.js";
import { errorBox, hide, show, statusBox } from "./forms.js";
import { describe } from "./messages.js";

export class RecordList {
  /**
   * @param {object} o
   * @param {string} o.path   e.g. "/api/v1/users"
   * @param {string} o.field  the array in the answer, e.g. "users"
   * @param {string} o.what   for "Could not load the <what>."
   */
  constructor({ path, field, what }) {
    this.path = path;
    this.field = field;
    this.what = what;
    this.items = [];
    this.error = errorBox();
    this.status = statusBox();
    this.tbody = h("tbody");
    this.empty = h("p", { class: "empty", text: "Loading…" });
  }

  /**
   * Fetch the records into `items`. False when that failed: the reason is
   * then in the error line, except for a 401, where the whole app signs out
   * and says why.
   */
  async load() {
    try {
      const result = await api.get(this.path);
      this.items = Array.isArray(result[this.field]) ? result[this.field] : [];
      hide(this.error);
      return true;
    } catch (err) {
      if (err.status !== 401) show(this.error, `Could not load the ${this.what}. ${describe(err)}`);
      return false;
    }
  }

  /** Show these rows, or the `none` line when there are none. */
  showRows(rows, none) {
    this.tbody.replaceChildren(...rows);
    this.empty.hidden = rows.length > 0;
    this.empty.textContent = rows.length ? "" : none;
  }

  /** Forget the records and the messages (signing out). */
  reset() {
    this.items = [];
    this.tbody.replaceChildren();
    hide(this.error);
    hide(this.status);
  }
}
