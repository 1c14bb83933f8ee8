// Account page: your own password, two-factor authentication (enrol with a
// QR code, recovery codes shown once, turn off), and signing out everywhere.
// Every change asks for proof first (the current password or a fresh code),
// because an unattended signed-in browser must not be enough to take over
// the account.

import * as api from "../api.js";
import { copyButton, downloadText } from "../copy.js";
import { confirmAction, openDialog } from "../dialog.js";
import { h } from "../dom.js";
import { busy, errorBox, field, hide, onSubmit, show, stackForm, statusBox } from "../forms.js";
import { describe } from "../messages.js";
import { panel } from "../panels.js";
import * as session from "../session.js";

let qrModule = null;
/** The QR encoder is loaded only when someone enrols; without it the secret can still be typed. */
function loadQr() {
  if (!qrModule) qrModule = import("../qrcode.js").catch(() => (qrModule = null));
  return qrModule;
}

/** "JBSWY3DPEHPK3PXP" → "JBSW Y3DP EHPK 3PXP", easier to type from a phone. */
function groups(secret) {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
}

export class AccountPage {
  /**
   * @param {HTMLElement} root
   * @param {object} ctx
   * @param {() => Promise<void>} ctx.signOutEverywhere
   */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.heading = h("h1", { id: "account-title", tabIndex: -1, text: "Account" });
    this.who = h("p", { class: "updated" });
    this.passwordPanel = this._buildPassword();
    this.totpBody = h("div", { class: "totp-body" });
    this.totpError = errorBox();
    this.totpError.id = "totp-error";
    this.totpStatus = statusBox();
    this.totpStatus.id = "totp-status";
    this.totpState = h("span", { class: "badge" });
    this.sessionsPanel = this._buildSessions();

    root.append(
      h("div", { class: "section-head" }, this.heading, this.who),
      h(
        "div",
        { class: "page-grid" },
        this.passwordPanel,
        panel(
          { id: "totp-title", title: "Two-factor authentication", aside: this.totpState },
          this.totpError,
          this.totpStatus,
          this.totpBody,
        ),
        this.sessionsPanel,
      ),
    );
    this.enrolling = null; // {secret} while setting up
    this.codesShown = false;
  }

  show() {
    this._render();
    // The record from sign-in may be stale (an admin can turn 2FA off): check, and redraw if so.
    const before = session.user()?.totp_enabled;
    session
      .refresh()
      .then((user) => {
        if (user && user.totp_enabled !== before) this._render();
      })
      .catch(() => {});
  }

  _render() {
    const user = session.user();
    if (!user) return;
    this.who.textContent = `Signed in as ${user.username} · ${user.role}`;
    this.usernameHint.value = user.username;
    if (!this.enrolling && !this.codesShown) this._renderTotp();
  }

  hide() {}

  reset() {
    this.enrolling = null;
    this.codesShown = false;
    this.totpBody.replaceChildren();
    for (const f of this.passwordPanel.querySelectorAll("input")) f.value = "";
    this.usernameHint.value = "";
    hide(this.totpError);
    hide(this.totpStatus);
  }

  // ---- password ------------------------------------------------------------------------

  _buildPassword() {
    const current = field({ label: "Current password", name: "current", type: "password", autocomplete: "current-password" });
    const next = field({
      label: "New password",
      name: "new",
      type: "password",
      autocomplete: "new-password",
      hint: "At least 10 characters. Your other sessions are signed out.",
    });
    const confirm = field({ label: "Confirm new password", name: "confirm", type: "password", autocomplete: "new-password" });
    const error = errorBox();
    const ok = statusBox();
    // Lets password managers file the new password under the right account.
    this.usernameHint = h("input", { type: "text", name: "username", autocomplete: "username", readOnly: true, hidden: true });
    const { form, submit } = stackForm(
      { id: "password-form", submit: "Change password" },
      this.usernameHint,
      current.el,
      next.el,
      confirm.el,
      error,
      ok,
    );
    const inputs = [current.input, next.input, confirm.input];
    onSubmit(form, { error, ok, inputs }, async (reject) => {
      if (!current.input.value) return reject(current.input, "Enter your current password.");
      if (next.input.value.length < 10) return reject(next.input, "Choose a new password of at least 10 characters.");
      if (next.input.value !== confirm.input.value) return reject(confirm.input, "The two new passwords differ.");
      await busy(submit, async () => {
        try {
          await api.post("/api/v1/account/password", {
            current_password: current.input.value,
            new_password: next.input.value,
          });
          for (const input of inputs) input.value = "";
          show(ok, "Password changed. Your other sessions were signed out.");
        } catch (err) {
          if (err.code === "wrong_password") reject(current.input, "Your current password is wrong.");
          else if (err.code === "weak_password") reject(next.input, describe(err));
          else show(error, describe(err));
        }
      });
    });
    return panel({ id: "password-title", title: "Password" }, form);
  }

  // ---- sessions -----------------------------------------------------------------------

  _buildSessions() {
    const btn = h("button", { type: "button", class: "btn btn-danger", id: "sign-out-everywhere", text: "Sign out everywhere" });
    const error = errorBox();
    btn.addEventListener("click", async () => {
      hide(error);
      const ok = await confirmAction({
        title: "Sign out everywhere?",
        text: "This ends every session of your account: on this device and on every other browser where you are signed in.",
        confirm: "Sign out everywhere",
        danger: true,
        action: () => this.ctx.signOutEverywhere(),
      });
      if (!ok) btn.focus();
    });
    return panel(
      { id: "sessions-title", title: "Sessions" },
      h("p", {
        class: "hint",
        text: "Lost a phone or used a shared computer? End all sessions of this account at once. API keys are not affected.",
      }),
      error,
      h("div", { class: "actions" }, btn),
    );
  }

  // ---- two-factor ----------------------------------------------------------------------

  _renderState() {
    const on = Boolean(session.user()?.totp_enabled);
    this.totpState.textContent = on ? "On" : "Off";
    this.totpState.dataset.tone = on ? "ok" : "muted";
    this.totpState.id = "totp-state";
    return on;
  }

  _renderTotp() {
    const on = this._renderState();
    if (on) {
      const fresh = h("button", { type: "button", class: "btn", text: "New recovery codes" });
      const off = h("button", { type: "button", class: "btn btn-danger", text: "Turn off" });
      fresh.addEventListener("click", () => this._newCodes(fresh));
      off.addEventListener("click", () => this._turnOff(off));
      this.totpBody.replaceChildren(
        h("p", {
          text: "Signing in asks for a code from your authenticator app. If you lose the phone, a recovery code gets you in (each works once).",
        }),
        h("div", { class: "actions" }, fresh, off),
      );
    } else {
      const start = h("button", { type: "button", class: "btn btn-primary", id: "totp-start", text: "Set up" });
      start.addEventListener("click", () => busy(start, () => this._startEnrolment()));
      this.totpBody.replaceChildren(
        h("p", {
          text: "Add a second step to signing in: a 6-digit code from an authenticator app on your phone (Aegis, 2FAS, Google Authenticator, 1Password, …).",
        }),
        h("div", { class: "actions" }, start),
      );
    }
  }

  async _startEnrolment() {
    hide(this.totpError);
    hide(this.totpStatus);
    let result;
    try {
      result = await api.post("/api/v1/account/totp/setup", {});
    } catch (err) {
      show(this.totpError, describe(err));
      return;
    }
    this.enrolling = { secret: result.secret };
    const qrBox = h("div", { class: "qr", id: "totp-qr" }, h("p", { class: "hint small", text: "Drawing the QR code…" }));
    const code = field({
      label: "Code from the app",
      name: "code",
      inputMode: "numeric",
      autocomplete: "one-time-code",
      pattern: "[0-9]{6}",
      maxLength: 6,
      id: "totp-enrol-code",
      class: "code-input",
    });
    const cancel = h("button", { type: "button", class: "btn btn-quiet", text: "Cancel" });
    const { form, submit: turnOn } = stackForm({ id: "totp-enrol-form", submit: "Turn on", buttons: [cancel] }, code.el);
    cancel.addEventListener("click", () => {
      this.enrolling = null;
      this._renderTotp();
      hide(this.totpError);
    });
    onSubmit(form, { error: this.totpError }, async (reject) => {
      const value = code.input.value.replace(/\s+/g, "");
      if (!/^\d{6}$/.test(value)) return reject(code.input, "Enter the 6-digit code the app shows for Nebula Command.");
      await busy(turnOn, async () => {
        try {
          const res = await api.post("/api/v1/account/totp/enable", { secret: result.secret, code: value });
          this.enrolling = null;
          session.update({ totp_enabled: true });
          this._showCodes(res.recovery_codes || [], "Two-factor authentication is on.");
        } catch (err) {
          code.input.value = "";
          reject(code.input, describe(err));
        }
      });
    });

    this.totpBody.replaceChildren(
      h(
        "ol",
        { class: "steps" },
        h("li", {}, h("p", { text: "Scan this QR code with your authenticator app:" }), qrBox),
        h(
          "li",
          {},
          h("p", { text: "Or type this key into the app (time-based, 6 digits, 30 seconds):" }),
          h(
            "p",
            { class: "secret-line" },
            h("code", { class: "secret", id: "totp-secret", text: groups(result.secret) }),
            copyButton(() => result.secret, "Copy key"),
          ),
        ),
        h("li", {}, h("p", { text: "Enter the code the app shows, to prove it works:" }), form),
      ),
    );
    code.input.focus();

    const qr = await loadQr();
    if (!this.enrolling || this.enrolling.secret !== result.secret) return;
    if (qr && typeof qr.qrSvgElement === "function" && result.otpauth_uri) {
      try {
        const svg = qr.qrSvgElement(result.otpauth_uri, {
          ecc: "M",
          margin: 4,
          pixelsPerModule: 4,
          title: "QR code for your authenticator app",
        });
        qrBox.replaceChildren(svg);
        return;
      } catch (err) {
        console.error("nebula: QR code", err);
      }
    }
    qrBox.replaceChildren(h("p", { class: "hint small", text: "The QR code is not available here; type the key below instead." }));
  }

  /** Show recovery codes once, with ways to keep them, until "I have saved them". */
  _showCodes(codes, headline) {
    this.codesShown = true;
    this._renderState();
    const user = session.user();
    const text = [
      `Nebula Command recovery codes for ${user?.username ?? "your account"}`,
      `Created ${new Date().toLocaleString()}. Each code works once.`,
      "",
      ...codes,
      "",
    ].join("\n");
    const done = h("button", { type: "button", class: "btn btn-primary", id: "codes-saved", text: "I have saved them" });
    const download = h("button", { type: "button", class: "btn btn-small", text: "Download .txt" });
    download.addEventListener("click", () =>
      downloadText(`nebula-recovery-codes-${user?.username ?? "account"}.txt`, text),
    );
    done.addEventListener("click", () => {
      this.codesShown = false;
      this._renderTotp();
      show(this.totpStatus, headline);
      this.heading.focus();
    });
    this.totpBody.replaceChildren(
      h("p", { class: "callout", text: `${headline} Save these recovery codes now: they are shown only this once.` }),
      h("p", {
        class: "hint",
        text: "Each code signs you in once without the app, if you lose your phone. Keep them somewhere safe, such as a password manager.",
      }),
      h(
        "ol",
        { class: "codes", id: "recovery-codes", attrs: { "aria-label": "Recovery codes" } },
        codes.map((c) => h("li", {}, h("code", { text: c }))),
      ),
      h("div", { class: "actions" }, copyButton(() => codes.join("\n"), "Copy"), download),
      h("div", { class: "actions" }, done),
    );
    hide(this.totpStatus);
    done.focus();
  }

  /**
   * Changing the second factor asks for the password again: POST it to `path`
   * from a dialog. Resolves with the answer, or null when cancelled.
   */
  _withPassword({ path, ...dialog }) {
    hide(this.totpError);
    hide(this.totpStatus);
    return openDialog({
      ...dialog,
      fields: [{ name: "password", label: "Password", type: "password", autocomplete: "current-password" }],
      action: (v) => api.post(path, { password: v.password }),
      errors: { wrong_password: "That password is wrong." },
    });
  }

  async _newCodes(button) {
    const result = await this._withPassword({
      title: "New recovery codes",
      text: "Your current recovery codes stop working and 10 new ones are shown once. Enter your password to continue.",
      confirm: "Make new codes",
      path: "/api/v1/account/recovery-codes",
    });
    if (result && Array.isArray(result.recovery_codes)) this._showCodes(result.recovery_codes, "New recovery codes made.");
    else button.focus();
  }

  async _turnOff(button) {
    const result = await this._withPassword({
      title: "Turn off two-factor authentication?",
      text: "Signing in will need only your password, and your recovery codes stop working. Enter your password to confirm.",
      confirm: "Turn off",
      danger: true,
      path: "/api/v1/account/totp/disable",
    });
    if (result) {
      session.update({ totp_enabled: false });
      this._renderTotp();
      show(this.totpStatus, "Two-factor authentication is off.");
      this.totpBody.querySelector("button")?.focus();
    } else {
      button.focus();
    }
  }
}
