// Users page (admins): who may sign in, with which role. Changing a role,
// disabling, deleting or resetting a password ends that person's sessions
// at once (their dashboard returns to the sign-in page), so each of these
// asks first and says so.

import * as api from "../api.js";
import { confirmAction, openDialog } from "../dialog.js";
import { h } from "../dom.js";
import { busy, errorBox, field, hide, onSubmit, selectField, show, stackForm, statusBox } from "../forms.js";
import { describe } from "../messages.js";
import { panel } from "../panels.js";
import { RecordList } from "../records.js";
import * as session from "../session.js";
import { dataTable } from "../tables.js";
import { timeEl } from "../timeago.js";

const ROLES = [
  ["viewer", "Viewer"],
  ["operator", "Operator"],
  ["admin", "Admin"],
];
const ROLE_HELP = {
  viewer: "sees everything, changes nothing",
  operator: "can also post and act on containers and jobs",
  admin: "can do everything, including users and keys",
};

/** "an operator", "a viewer" */
const withArticle = (word) => `${/^[aeiou]/i.test(word) ? "an" : "a"} ${word}`;

const USER_ERRORS = {
  conflict: "That username is taken; choose another.",
  last_admin: "Not possible: at least one enabled admin account must remain.",
};

export class UsersPage {
  constructor(root) {
    this.root = root;
    this.list = new RecordList({ path: "/api/v1/users", field: "users", what: "users" });
    this.heading = h("h1", { id: "users-title", tabIndex: -1, text: "Users" });
    this.count = h("p", { class: "updated" });

    const table = dataTable({
      id: "users-table",
      caption: "Accounts that can sign in",
      columns: ["User", "Role", "2FA", "Status", "Created", "Actions"],
      tbody: this.list.tbody,
    });
    root.append(
      h("div", { class: "section-head" }, this.heading, this.count),
      h(
        "div",
        { class: "page-grid page-grid-wide" },
        panel({ id: "users-list-title", title: "Accounts", className: "span-2" }, this.list.error, this.list.status, table, this.list.empty),
        this._buildCreate(),
      ),
    );
  }

  show() {
    this.load();
  }

  hide() {}

  reset() {
    this.list.reset();
  }

  async load() {
    if (await this.list.load()) this._render();
  }

  _say(text) {
    hide(this.list.error);
    show(this.list.status, text);
  }

  _fail(err) {
    hide(this.list.status);
    show(this.list.error, describe(err, USER_ERRORS));
  }

  _render() {
    const me = session.user();
    const rows = this.list.items
      .slice()
      .sort((a, b) => a.username.localeCompare(b.username))
      .map((u) => this._row(u, me && u.id === me.id));
    this.list.showRows(rows, "No users yet.");
    const n = this.list.items.length;
    this.count.textContent = `${n} account${n === 1 ? "" : "s"}`;
  }

  _row(u, isMe) {
    const name = h("td", { class: "cell-name", dataset: { label: "User" } }, h("span", { class: "mono", text: u.username }));
    if (isMe) name.append(h("span", { class: "badge", dataset: { tone: "accent" }, text: "you" }));

    const role = h(
      "select",
      { class: "select-small", attrs: { "aria-label": `Role of ${u.username}` }, dataset: { action: "role" } },
      ROLES.map(([v, t]) => h("option", { value: v, text: t })),
    );
    role.value = u.role;
    role.addEventListener("change", () => this._changeRole(u, role));

    const totp = u.totp_enabled
      ? h("span", { class: "badge", dataset: { tone: "ok" }, text: "On" })
      : h("span", { class: "badge", dataset: { tone: "muted" }, text: "Off" });
    const status = u.disabled
      ? h("span", { class: "badge", dataset: { tone: "crit" }, text: "Disabled" })
      : h("span", { class: "badge", dataset: { tone: "ok" }, text: "Active" });

    const act = (text, action, kind = "") =>
      h("button", {
        type: "button",
        class: `btn btn-small${kind ? ` btn-${kind}` : ""}`,
        text,
        dataset: { action },
        attrs: { "aria-label": `${text}: ${u.username}` },
      });
    const toggle = act(u.disabled ? "Enable" : "Disable", u.disabled ? "enable" : "disable");
    const reset = act("Reset password", "reset-password");
    const totpOff = u.totp_enabled ? act("Turn off 2FA", "totp-off") : null;
    const remove = act("Delete", "delete", "danger");
    toggle.addEventListener("click", () => this._toggle(u, toggle));
    reset.addEventListener("click", () => this._resetPassword(u, reset));
    totpOff?.addEventListener("click", () => this._totpOff(u, totpOff));
    remove.addEventListener("click", () => this._delete(u, remove));

    return h(
      "tr",
      { dataset: { user: u.username, id: String(u.id) } },
      name,
      h("td", { dataset: { label: "Role" } }, role),
      h("td", { dataset: { label: "2FA" } }, totp),
      h("td", { dataset: { label: "Status" } }, status),
      h("td", { dataset: { label: "Created" } }, timeEl(u.created_at, { style: "date" })),
      h("td", { class: "cell-actions", dataset: { label: "Actions" } }, h("div", { class: "row-actions" }, toggle, reset, totpOff, remove)),
    );
  }

  async _patch(u, body, done) {
    try {
      const result = await api.patch(`/api/v1/users/${u.id}`, body);
      const updated = result.user ?? { ...u, ...body };
      this.list.items = this.list.items.map((x) => (x.id === u.id ? { ...x, ...updated } : x));
      this._render();
      this._say(done);
      return true;
    } catch (err) {
      if (err.status !== 401) this._fail(err);
      return false;
    }
  }

  async _changeRole(u, select) {
    const role = select.value;
    const label = ROLES.find(([v]) => v === role)[1].toLowerCase();
    const ok = await confirmAction({
      title: `Make ${u.username} ${withArticle(label)}?`,
      text: `${label[0].toUpperCase()}${label.slice(1)}s ${ROLE_HELP[role]}. ${u.username} is signed out everywhere and signs in again with the new role.`,
      confirm: "Change role",
    });
    if (!ok || !(await this._patch(u, { role }, `${u.username} is now ${withArticle(label)}.`))) {
      select.value = u.role;
      select.focus();
    } else {
      this._focusRow(u, "role");
    }
  }

  async _toggle(u, button) {
    if (u.disabled) {
      await busy(button, () => this._patch(u, { disabled: false }, `${u.username} can sign in again.`));
      this._focusRow(u, "disable");
      return;
    }
    const ok = await confirmAction({
      title: `Disable ${u.username}?`,
      text: `${u.username} is signed out at once, everywhere, and cannot sign in until you enable the account again. Nothing is deleted.`,
      confirm: "Disable",
      danger: true,
    });
    if (ok && (await this._patch(u, { disabled: true }, `${u.username} is disabled and was signed out.`))) {
      this._focusRow(u, "enable");
    } else {
      button.focus();
    }
  }

  async _resetPassword(u, button) {
    const result = await openDialog({
      title: `New password for ${u.username}`,
      text: `${u.username} is signed out everywhere and signs in with this password. Tell them through a safe channel.`,
      fields: [
        { name: "password", label: "New password", type: "password", autocomplete: "new-password", minLength: 10 },
        { name: "confirm", label: "Confirm new password", type: "password", autocomplete: "new-password" },
      ],
      confirm: "Set password",
      validate: (v) =>
        v.password.length < 10
          ? "Choose a password of at least 10 characters."
          : v.password !== v.confirm
            ? "The two passwords differ."
            : null,
      action: (v) => api.patch(`/api/v1/users/${u.id}`, { password: v.password }),
      errors: USER_ERRORS,
    });
    if (result) {
      this._say(`Password of ${u.username} changed; their sessions ended.`);
      this.load();
    }
    button.focus();
  }

  async _totpOff(u, button) {
    const ok = await confirmAction({
      title: `Turn off two-factor authentication for ${u.username}?`,
      text: `For when ${u.username} lost both the phone and the recovery codes: signing in will need only the password. They can set it up again on their Account page.`,
      confirm: "Turn off 2FA",
      danger: true,
    });
    if (ok && (await this._patch(u, { totp_enabled: false }, `Two-factor authentication is off for ${u.username}.`))) {
      this._focusRow(u, "reset-password");
    } else {
      button.focus();
    }
  }

  async _delete(u, button) {
    const ok = await confirmAction({
      title: `Delete ${u.username}?`,
      text: `The account ${u.username} is removed for good and signed out everywhere. The audit log keeps its entries. This cannot be undone; disable the account instead if it may come back.`,
      confirm: "Delete account",
      danger: true,
      action: () => api.del(`/api/v1/users/${u.id}`),
      errors: USER_ERRORS,
    });
    if (ok) {
      this.list.items = this.list.items.filter((x) => x.id !== u.id);
      this._render();
      this._say(`${u.username} was deleted.`);
      this.heading.focus();
    } else {
      button.focus();
    }
  }

  _focusRow(u, action) {
    const row = this.list.tbody.querySelector(`tr[data-id="${u.id}"]`);
    row?.querySelector(`[data-action="${action}"]`)?.focus();
  }

  _buildCreate() {
    const username = field({
      label: "Username",
      name: "username",
      autocomplete: "off",
      autocapitalize: "off",
      spellcheck: false,
      maxLength: 64,
      id: "new-user-name",
    });
    const password = field({
      label: "Password",
      name: "password",
      type: "password",
      autocomplete: "new-password",
      id: "new-user-password",
      hint: "At least 10 characters. They can change it on their Account page.",
    });
    const role = selectField({ label: "Role", name: "role", options: ROLES, value: "viewer", id: "new-user-role" });
    const roleHint = h("p", { class: "hint small", id: "new-user-role-hint", text: `Viewer: ${ROLE_HELP.viewer}.` });
    role.input.setAttribute("aria-describedby", roleHint.id);
    role.el.append(roleHint);
    role.input.addEventListener("change", () => {
      const v = role.input.value;
      roleHint.textContent = `${ROLES.find(([x]) => x === v)[1]}: ${ROLE_HELP[v]}.`;
    });
    const error = errorBox();
    const ok = statusBox();
    const { form, submit } = stackForm({ id: "create-user-form", submit: "Create user" }, username.el, password.el, role.el, error, ok);
    onSubmit(form, { error, ok, inputs: [username.input, password.input] }, async (reject) => {
      const name = username.input.value.trim();
      if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) return reject(username.input, "Choose a username of 1 to 64 letters, digits or . _ - @");
      if (password.input.value.length < 10) return reject(password.input, "Choose a password of at least 10 characters.");
      await busy(submit, async () => {
        try {
          const result = await api.post("/api/v1/users", {
            username: name,
            password: password.input.value,
            role: role.input.value,
          });
          username.input.value = "";
          password.input.value = "";
          show(ok, `Created ${name} (${role.input.value}).`);
          if (result.user) {
            this.list.items = this.list.items.filter((x) => x.id !== result.user.id).concat(result.user);
            this._render();
          } else {
            this.load();
          }
          username.input.focus();
        } catch (err) {
          if (err.code === "conflict") reject(username.input, USER_ERRORS.conflict);
          else if (err.code === "weak_password") reject(password.input, describe(err));
          else if (err.status !== 401) show(error, describe(err, USER_ERRORS));
        }
      });
    });
    return panel({ id: "create-user-title", title: "Add a user" }, form);
  }
}
