// Keys page (admins): API keys for scripts and overlay keys for OBS browser
// sources. The server keeps only a hash, so a new key is shown exactly once,
// here, with a Copy button; revoking closes the key's open connections.

import * as api from "../api.js";
import { copyButton } from "../copy.js";
import { confirmAction } from "../dialog.js";
import { h } from "../dom.js";
import { busy, errorBox, field, hide, onSubmit, show, stackForm, uid } from "../forms.js";
import * as fmt from "../format.js";
import { describe } from "../messages.js";
import { panel } from "../panels.js";
import { RecordList } from "../records.js";
import { dataTable } from "../tables.js";
import { timeEl } from "../timeago.js";

const SCOPES = [
  ["read", "Read channels and the API"],
  ["publish:app", "Publish to app.* channels"],
  ["containers", "Act on containers"],
  ["jobs", "Run jobs"],
  ["admin", "Everything, including users and keys"],
];
const FAMILY = /^[A-Za-z0-9._*-]+$/;

/** End of the chosen local day, as RFC 3339 UTC without milliseconds. */
function endOfDay(dateText) {
  const [y, m, d] = dateText.split("-").map(Number);
  const t = new Date(y, m - 1, d, 23, 59, 59);
  return t.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function localDate(t) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
}

function keyState(k, now = Date.now()) {
  if (k.revoked_at) return "revoked";
  const exp = fmt.parseTime(k.expires_at);
  if (Number.isFinite(exp) && exp <= now) return "expired";
  return "active";
}

/** A secret to copy: read-only, selected whole on focus, with a Copy button beside it. */
function copyableField({ idPrefix, label, value, copyLabel }) {
  const id = uid(idPrefix);
  const input = h("input", { id, class: "secret-input", type: "text", readOnly: true, value, spellcheck: false });
  input.addEventListener("focus", () => input.select());
  return { input, els: [h("label", { htmlFor: id, text: label }), h("div", { class: "inline-field" }, input, copyButton(() => value, copyLabel))] };
}

export class KeysPage {
  constructor(root) {
    this.root = root;
    this.list = new RecordList({ path: "/api/v1/keys", field: "keys", what: "keys" });
    this.heading = h("h1", { id: "keys-title", tabIndex: -1, text: "Keys" });
    this.count = h("p", { class: "updated" });
    this.reveal = h("section", {
      class: "panel panel-pad reveal span-2",
      id: "new-key",
      hidden: true,
      attrs: { "aria-labelledby": "new-key-title", tabindex: "-1" },
    });

    const table = dataTable({
      id: "keys-table",
      caption: "API and overlay keys",
      columns: ["Name", "Kind", "Scopes", "Created", "Expires", "Status", ""],
      tbody: this.list.tbody,
    });
    root.append(
      h("div", { class: "section-head" }, this.heading, this.count),
      h(
        "div",
        { class: "page-grid page-grid-wide" },
        this.reveal,
        panel({ id: "keys-list-title", title: "Keys", className: "span-2" }, this.list.error, this.list.status, table, this.list.empty),
        this._buildCreate(),
      ),
    );
  }

  show() {
    this.load();
  }

  hide() {
    this._closeReveal(); // a secret should not wait on a page nobody looks at
  }

  reset() {
    this.list.reset();
    this._closeReveal();
  }

  async load() {
    if (await this.list.load()) this._render();
  }

  _render() {
    const order = { active: 0, expired: 1, revoked: 2 };
    const rows = this.list.items
      .slice()
      .sort((a, b) => order[keyState(a)] - order[keyState(b)] || b.id - a.id)
      .map((k) => this._row(k));
    this.list.showRows(rows, "No keys yet. Scripts and OBS overlays need one.");
    const active = this.list.items.filter((k) => keyState(k) === "active").length;
    this.count.textContent = `${active} active · ${this.list.items.length} in all`;
  }

  _row(k) {
    const state = keyState(k);
    const scopes = h(
      "td",
      { dataset: { label: "Scopes" } },
      h("span", { class: "chips" }, (k.scopes || []).map((s) => h("span", { class: "chip", text: s }))),
    );
    const statusCell = h("td", { dataset: { label: "Status" } });
    if (state === "revoked") {
      statusCell.append(h("span", { class: "badge", dataset: { tone: "crit" }, text: "Revoked" }), " ", timeEl(k.revoked_at, { style: "date" }));
    } else if (state === "expired") {
      statusCell.append(h("span", { class: "badge", dataset: { tone: "warn" }, text: "Expired" }));
    } else {
      statusCell.append(h("span", { class: "badge", dataset: { tone: "ok" }, text: "Active" }));
    }
    const actions = h("td", { class: "cell-actions", dataset: { label: "" } });
    if (state === "active") {
      const revoke = h("button", {
        type: "button",
        class: "btn btn-small btn-danger",
        text: "Revoke",
        dataset: { action: "revoke" },
        attrs: { "aria-label": `Revoke ${k.name}` },
      });
      revoke.addEventListener("click", () => this._revoke(k, revoke));
      actions.append(revoke);
    }
    return h(
      "tr",
      { dataset: { id: String(k.id), name: k.name, state } },
      h("td", { class: "cell-name", dataset: { label: "Name" } }, h("span", { class: "mono", text: k.name })),
      h("td", { dataset: { label: "Kind" } }, h("span", { class: "badge", dataset: { tone: k.kind === "overlay" ? "accent" : "muted" }, text: k.kind })),
      scopes,
      h("td", { dataset: { label: "Created" } }, timeEl(k.created_at, { style: "date" })),
      h("td", { dataset: { label: "Expires" } }, k.expires_at ? timeEl(k.expires_at, { style: "date" }) : h("span", { class: "muted", text: "never" })),
      statusCell,
      actions,
    );
  }

  async _revoke(k, button) {
    hide(this.list.status);
    const ok = await confirmAction({
      title: `Revoke the key “${k.name}”?`,
      text:
        k.kind === "overlay"
          ? `OBS sources using “${k.name}” stop updating at once. This cannot be undone; make a new key to replace it.`
          : `Scripts and tools using “${k.name}” are refused from now on and its open connections close. This cannot be undone.`,
      confirm: "Revoke key",
      danger: true,
      action: () => api.del(`/api/v1/keys/${k.id}`),
    });
    if (ok) {
      show(this.list.status, `“${k.name}” is revoked.`);
      await this.load();
      this.heading.focus();
    } else {
      button.focus();
    }
  }

  _closeReveal() {
    this.reveal.replaceChildren();
    this.reveal.hidden = true;
  }

  /** The one and only time the key is visible. */
  _showKey(created) {
    const key = copyableField({ idPrefix: "new-key-value", label: "Key", value: created.key, copyLabel: "Copy" });
    const done = h("button", { type: "button", class: "btn btn-primary", text: "Done, I have copied it" });
    done.addEventListener("click", () => {
      this._closeReveal();
      this.heading.focus();
    });
    const parts = [
      h("div", { class: "panel-head" }, h("h2", { id: "new-key-title", text: `New ${created.kind === "overlay" ? "overlay" : "API"} key “${created.name}”` })),
      h("p", { class: "callout", text: "Copy the key now: it is shown only this once. The server keeps only a fingerprint of it." }),
      ...key.els,
    ];
    if (created.kind === "overlay") {
      const url = `${window.location.origin}/overlays/alerts.html?token=${encodeURIComponent(created.key)}`;
      parts.push(
        ...copyableField({ idPrefix: "overlay-url", label: "Example OBS browser-source URL", value: url, copyLabel: "Copy URL" }).els,
        h("p", { class: "hint small", text: "Any overlay page under /overlays/ takes the key as ?token=. Overlay keys can only read overlay channels." }),
      );
    } else {
      parts.push(
        h("p", { class: "hint small" }, "Send it as ", h("code", { text: "Authorization: Bearer <key>" }), ", or as ", h("code", { text: "?token=" }), " on the WebSocket URL."),
      );
    }
    parts.push(h("div", { class: "actions" }, done));
    this.reveal.replaceChildren(...parts);
    this.reveal.hidden = false;
    this.reveal.focus();
    key.input.focus();
  }

  _buildCreate() {
    const name = field({ label: "Name", name: "name", maxLength: 100, autocomplete: "off", id: "key-name", hint: "What uses it, e.g. “backup script” or “OBS alerts”." });
    const kindName = uid("kind");
    const kinds = [
      ["api", "API key", "for scripts and tools"],
      ["overlay", "Overlay key", "read-only, for OBS browser sources"],
    ].map(([value, label, help]) => {
      const input = h("input", { type: "radio", name: kindName, value, id: `key-kind-${value}`, checked: value === "api" });
      return { input, el: h("label", { class: "choice", htmlFor: input.id }, input, h("span", {}, h("strong", { text: label }), h("span", { class: "hint small", text: ` ${help}` }))) };
    });
    const scopeBoxes = SCOPES.map(([value, help]) => {
      const input = h("input", { type: "checkbox", value, id: `scope-${value.replace(":", "-")}`, checked: value === "read" });
      return { input, el: h("label", { class: "choice", htmlFor: input.id }, input, h("span", {}, h("code", { text: value }), h("span", { class: "hint small", text: ` ${help}` }))) };
    });
    const familyId = uid("family");
    const family = h("input", { id: familyId, type: "text", autocomplete: "off", spellcheck: false, placeholder: "e.g. bots", class: "family-input" });
    const familyEl = h(
      "div",
      { class: "field" },
      h("label", { htmlFor: familyId, text: "Publish to another family (optional)" }),
      h("div", { class: "prefixed" }, h("span", { class: "prefix", attrs: { "aria-hidden": "true" }, text: "publish:" }), family),
    );
    const scopeSet = h(
      "fieldset",
      { class: "choices", id: "key-scopes" },
      h("legend", { text: "Scopes" }),
      scopeBoxes.map((s) => s.el),
      familyEl,
    );
    const overlayNote = h("p", { class: "hint small", hidden: true, text: "Overlay keys can only read overlay channels; they need no scopes." });
    const tomorrow = new Date(Date.now() + 86400000);
    const expires = field({ label: "Expires (optional)", name: "expires", type: "date", id: "key-expires", min: localDate(tomorrow), hint: "The key stops working at the end of that day. Leave empty for no expiry." });
    const error = errorBox();
    const { form, submit } = stackForm(
      { id: "create-key-form", submit: "Create key" },
      name.el,
      h("fieldset", { class: "choices" }, h("legend", { text: "Kind" }), kinds.map((k) => k.el)),
      scopeSet,
      overlayNote,
      expires.el,
      error,
    );
    const kind = () => kinds.find((k) => k.input.checked)?.input.value ?? "api";
    for (const k of kinds) {
      k.input.addEventListener("change", () => {
        const overlay = kind() === "overlay";
        scopeSet.disabled = overlay;
        scopeSet.hidden = overlay;
        overlayNote.hidden = !overlay;
      });
    }
    onSubmit(form, { error, inputs: [name.input, family] }, async (reject) => {
      const keyName = name.input.value.trim();
      if (!keyName) return reject(name.input, "Give the key a name, so you know later what uses it.");
      const body = { name: keyName, kind: kind() };
      if (body.kind === "api") {
        const scopes = scopeBoxes.filter((s) => s.input.checked).map((s) => s.input.value);
        const fam = family.value.trim().replace(/^publish:/, "");
        if (fam) {
          if (!FAMILY.test(fam)) return reject(family, "A family is letters, digits and . _ - * (for example bots or overlay).");
          if (!scopes.includes(`publish:${fam}`)) scopes.push(`publish:${fam}`);
        }
        if (!scopes.length) return reject(scopeBoxes[0].input, "Choose at least one scope.");
        body.scopes = scopes;
      }
      if (expires.input.value) {
        if (expires.input.value < localDate(new Date())) return reject(expires.input, "Choose a date in the future.");
        body.expires_at = endOfDay(expires.input.value);
      }
      await busy(submit, async () => {
        try {
          const created = await api.post("/api/v1/keys", body);
          name.input.value = "";
          family.value = "";
          expires.input.value = "";
          hide(this.list.status);
          this._showKey(created);
          this.load();
        } catch (err) {
          if (err.status !== 401) show(error, describe(err));
        }
      });
    });
    return panel({ id: "create-key-title", title: "Create a key" }, form);
  }
}
