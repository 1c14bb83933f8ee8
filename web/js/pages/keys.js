// Keys page (admins): API keys for scripts and overlay keys for OBS browser
// sources. The server keeps only a hash, so a new key is shown exactly once,
// here, with a Copy button; revoking closes the key's open connections.

import * as api from "../api.js";
import { copyButton } from "../copy.js";
import { confirmAction } from "../dialog.js";
import { h } from "../dom.js";
import { busy, errorBox, field, hide, show, statusBox, uid } from "../forms.js";
import * as fmt from "../format.js";
import { describe } from "../messages.js";
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

export class KeysPage {
  constructor(root) {
    this.root = root;
    this.keys = [];
    this.error = errorBox();
    this.status = statusBox();
    this.tbody = h("tbody");
    this.empty = h("p", { class: "empty", text: "Loading…" });
    this.heading = h("h1", { id: "keys-title", tabIndex: -1, text: "Keys" });
    this.count = h("p", { class: "updated" });
    this.reveal = h("section", {
      class: "panel panel-pad reveal span-2",
      id: "new-key",
      hidden: true,
      attrs: { "aria-labelledby": "new-key-title", tabindex: "-1" },
    });

    const table = h(
      "table",
      { class: "table data-table", id: "keys-table" },
      h("caption", { class: "sr-only", text: "API and overlay keys" }),
      h(
        "thead",
        {},
        h("tr", {}, ["Name", "Kind", "Scopes", "Created", "Expires", "Status", ""].map((t) => h("th", { scope: "col", text: t }))),
      ),
      this.tbody,
    );

    root.append(
      h("div", { class: "section-head" }, this.heading, this.count),
      h(
        "div",
        { class: "page-grid page-grid-wide" },
        this.reveal,
        h(
          "section",
          { class: "panel panel-pad span-2", attrs: { "aria-labelledby": "keys-list-title" } },
          h("div", { class: "panel-head" }, h("h2", { id: "keys-list-title", text: "Keys" })),
          this.error,
          this.status,
          h("div", { class: "table-wrap" }, table),
          this.empty,
        ),
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
    this.keys = [];
    this.tbody.replaceChildren();
    this._closeReveal();
    hide(this.error);
    hide(this.status);
  }

  async load() {
    try {
      const result = await api.get("/api/v1/keys");
      this.keys = Array.isArray(result.keys) ? result.keys : [];
      hide(this.error);
      this._render();
    } catch (err) {
      if (err.status !== 401) show(this.error, `Could not load the keys. ${describe(err)}`);
    }
  }

  _render() {
    const order = { active: 0, expired: 1, revoked: 2 };
    const rows = this.keys
      .slice()
      .sort((a, b) => order[keyState(a)] - order[keyState(b)] || b.id - a.id)
      .map((k) => this._row(k));
    this.tbody.replaceChildren(...rows);
    this.empty.hidden = rows.length > 0;
    this.empty.textContent = rows.length ? "" : "No keys yet. Scripts and OBS overlays need one.";
    const active = this.keys.filter((k) => keyState(k) === "active").length;
    this.count.textContent = `${active} active · ${this.keys.length} in all`;
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
    hide(this.status);
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
      show(this.status, `“${k.name}” is revoked.`);
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
    const keyId = uid("new-key-value");
    const keyInput = h("input", { id: keyId, class: "secret-input", type: "text", readOnly: true, value: created.key, spellcheck: false });
    keyInput.addEventListener("focus", () => keyInput.select());
    const done = h("button", { type: "button", class: "btn btn-primary", text: "Done, I have copied it" });
    done.addEventListener("click", () => {
      this._closeReveal();
      this.heading.focus();
    });
    const parts = [
      h("div", { class: "panel-head" }, h("h2", { id: "new-key-title", text: `New ${created.kind === "overlay" ? "overlay" : "API"} key “${created.name}”` })),
      h("p", { class: "callout", text: "Copy the key now: it is shown only this once. The server keeps only a fingerprint of it." }),
      h("label", { htmlFor: keyId, text: "Key" }),
      h("div", { class: "inline-field" }, keyInput, copyButton(() => created.key, "Copy")),
    ];
    if (created.kind === "overlay") {
      const url = `${window.location.origin}/overlays/alerts.html?token=${encodeURIComponent(created.key)}`;
      const urlId = uid("overlay-url");
      const urlInput = h("input", { id: urlId, class: "secret-input", type: "text", readOnly: true, value: url, spellcheck: false });
      urlInput.addEventListener("focus", () => urlInput.select());
      parts.push(
        h("label", { htmlFor: urlId, text: "Example OBS browser-source URL" }),
        h("div", { class: "inline-field" }, urlInput, copyButton(() => url, "Copy URL")),
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
    keyInput.focus();
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
    const submit = h("button", { type: "submit", class: "btn btn-primary", text: "Create key" });
    const form = h(
      "form",
      { class: "stack", noValidate: true, id: "create-key-form" },
      name.el,
      h("fieldset", { class: "choices" }, h("legend", { text: "Kind" }), kinds.map((k) => k.el)),
      scopeSet,
      overlayNote,
      expires.el,
      error,
      h("div", { class: "actions" }, submit),
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
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      hide(error);
      name.input.removeAttribute("aria-invalid");
      family.removeAttribute("aria-invalid");
      const bad = (input, text) => {
        input.setAttribute("aria-invalid", "true");
        show(error, text);
        input.focus();
      };
      const keyName = name.input.value.trim();
      if (!keyName) return bad(name.input, "Give the key a name, so you know later what uses it.");
      const body = { name: keyName, kind: kind() };
      if (body.kind === "api") {
        const scopes = scopeBoxes.filter((s) => s.input.checked).map((s) => s.input.value);
        const fam = family.value.trim().replace(/^publish:/, "");
        if (fam) {
          if (!FAMILY.test(fam)) return bad(family, "A family is letters, digits and . _ - * (for example bots or overlay).");
          if (!scopes.includes(`publish:${fam}`)) scopes.push(`publish:${fam}`);
        }
        if (!scopes.length) return bad(scopeBoxes[0].input, "Choose at least one scope.");
        body.scopes = scopes;
      }
      if (expires.input.value) {
        if (expires.input.value < localDate(new Date())) return bad(expires.input, "Choose a date in the future.");
        body.expires_at = endOfDay(expires.input.value);
      }
      await busy(submit, async () => {
        try {
          const created = await api.post("/api/v1/keys", body);
          name.input.value = "";
          family.value = "";
          expires.input.value = "";
          hide(this.status);
          this._showKey(created);
          this.load();
        } catch (err) {
          if (err.status !== 401) show(error, describe(err));
        }
      });
    });
    return h(
      "section",
      { class: "panel panel-pad", attrs: { "aria-labelledby": "create-key-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "create-key-title", text: "Create a key" })),
      form,
    );
  }
}
