// The ways in: create the first admin from the setup link, sign in with a
// password (and a TOTP or recovery code when the account has a second
// factor), or fall back to an API key. The forms are in index.html; this
// module wires them and shows one at a time.

import { onSubmit } from "./forms.js";
import { describe, lockedFor } from "./messages.js";
import * as session from "./session.js";

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const $ = (id) => document.getElementById(id);

function setError(form, text) {
  const box = form.querySelector("[data-role=error]");
  box.textContent = text || "";
  box.hidden = !text;
}

function markInvalid(input, yes) {
  if (yes) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

export class SignIn {
  /**
   * @param {object} hooks
   * @param {(user: object) => void} hooks.onSignedIn
   * @param {(key: string) => void} hooks.onKey          a key was typed into the key form
   * @param {() => void} hooks.onUseAccount              "Sign in with a username instead"
   * @param {() => void} hooks.onRecheck                 "Check again" on the setup-needed page
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.login = $("login-form");
    this.totp = $("totp-form");
    this.setup = $("setup-form");
    this.setupNeeded = $("setup-needed");
    this.keyForm = $("key-form");
    this.screens = [this.login, this.totp, this.setup, this.setupNeeded, this.keyForm];
    this.pending = null; // {username, password} between the password and the code step
    this.setupToken = null;
    this.recoveryMode = false;
    this.lockTimer = null;
    this.lockedButton = null; // the submit button a lock-out counts down on

    onSubmit(this.login, {}, () => this._submitLogin());
    onSubmit(this.totp, {}, () => this._submitCode());
    onSubmit(this.setup, {}, () => this._submitSetup());
    onSubmit(this.keyForm, {}, () => this._submitKey());
    for (const el of document.querySelectorAll("[data-action=use-key]")) {
      el.addEventListener("click", () => this.showKeyForm());
    }
    this.keyForm.querySelector("[data-action=use-account]").addEventListener("click", () => hooks.onUseAccount());
    this.setupNeeded.querySelector("[data-action=recheck]").addEventListener("click", () => hooks.onRecheck());
    this.totp.querySelector("[data-action=toggle-recovery]").addEventListener("click", () => {
      this._setRecoveryMode(!this.recoveryMode);
      this.totp.elements.totp.focus();
    });
    this.totp.querySelector("[data-action=back]").addEventListener("click", () => {
      this.pending = null;
      this.showLogin();
    });
  }

  hideAll() {
    for (const s of this.screens) s.hidden = true;
  }

  _show(screen) {
    for (const s of this.screens) s.hidden = s !== screen;
  }

  /**
   * Send a form's request at most once at a time: its submit button is
   * disabled until `send(button)` settles, and stays so while a lock-out
   * counts down on it.
   */
  async _sendOnce(form, send) {
    const submit = form.querySelector("button[type=submit]");
    if (submit.disabled) return;
    submit.disabled = true;
    try {
      await send(submit);
    } finally {
      if (this.lockedButton !== submit) submit.disabled = false;
    }
  }

  // ---- password --------------------------------------------------------------------

  /**
   * @param {object} [o]
   * @param {string} [o.notice] why the person is here ("Your session ended; sign in again")
   * @param {string} [o.error]
   */
  showLogin({ notice = "", error = "" } = {}) {
    const f = this.login;
    this._show(f);
    const noticeBox = f.querySelector("[data-role=notice]");
    noticeBox.textContent = notice;
    noticeBox.hidden = !notice;
    setError(f, error);
    f.elements.password.value = "";
    markInvalid(f.elements.password, false);
    (f.elements.username.value ? f.elements.password : f.elements.username).focus();
  }

  async _submitLogin() {
    const f = this.login;
    const username = f.elements.username.value.trim();
    const password = f.elements.password.value;
    markInvalid(f.elements.username, !username);
    markInvalid(f.elements.password, !password);
    if (!username || !password) {
      setError(f, !username ? "Enter your username." : "Enter your password.");
      (!username ? f.elements.username : f.elements.password).focus();
      return;
    }
    await this._sendOnce(f, async (submit) => {
      try {
        const user = await session.login(username, password);
        this.pending = null;
        f.elements.password.value = "";
        this.hooks.onSignedIn(user);
      } catch (err) {
        if (err.code === "totp_required") {
          this.pending = { username, password };
          f.elements.password.value = "";
          this.showTotp();
          return;
        }
        setError(f, describe(err));
        f.elements.password.value = "";
        if (err.code === "unauthorized") markInvalid(f.elements.password, true);
        f.elements.password.focus();
        this._lockout(submit, lockedFor(err));
      }
    });
  }

  /** After `locked_out`, keep the button disabled and count down on it. */
  _lockout(button, secs) {
    if (!secs) return;
    clearInterval(this.lockTimer);
    this.lockedButton = button;
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    const until = Date.now() + secs * 1000;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(this.lockTimer);
        this.lockTimer = null;
        this.lockedButton = null;
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.disabled = true;
      button.textContent = `${label} (wait ${left} s)`;
    };
    tick();
    this.lockTimer = setInterval(tick, 1000);
  }

  // ---- second factor -----------------------------------------------------------------

  showTotp() {
    this._show(this.totp);
    setError(this.totp, "");
    this._setRecoveryMode(false);
    this.totp.elements.totp.value = "";
    this.totp.elements.totp.focus();
  }

  _setRecoveryMode(on) {
    this.recoveryMode = on;
    const input = this.totp.elements.totp;
    const label = this.totp.querySelector("[data-role=label]");
    const intro = this.totp.querySelector("[data-role=intro]");
    const toggle = this.totp.querySelector("[data-action=toggle-recovery]");
    input.value = "";
    markInvalid(input, false);
    setError(this.totp, "");
    if (on) {
      label.textContent = "Recovery code";
      intro.textContent = "Enter one of the recovery codes you saved when you set up two-factor authentication. Each works once.";
      input.inputMode = "text";
      input.autocomplete = "off";
      input.removeAttribute("pattern");
      input.maxLength = 64;
      toggle.textContent = "Use the authenticator app";
    } else {
      label.textContent = "Authentication code";
      intro.textContent = "Enter the 6-digit code from your authenticator app.";
      input.inputMode = "numeric";
      input.autocomplete = "one-time-code";
      input.pattern = "[0-9]{6}";
      input.maxLength = 6;
      toggle.textContent = "Use a recovery code";
    }
  }

  async _submitCode() {
    const f = this.totp;
    const input = f.elements.totp;
    const raw = input.value.trim();
    const code = this.recoveryMode ? raw : raw.replace(/\s+/g, "");
    const problem = this.recoveryMode
      ? !code && "Enter a recovery code."
      : !/^\d{6}$/.test(code) && "Enter the 6 digits shown in your authenticator app.";
    if (problem) {
      markInvalid(input, true);
      setError(f, problem);
      input.focus();
      return;
    }
    if (!this.pending) {
      this.showLogin();
      return;
    }
    await this._sendOnce(f, async (submit) => {
      try {
        const user = await session.login(this.pending.username, this.pending.password, code);
        this.pending = null;
        input.value = "";
        this.hooks.onSignedIn(user);
      } catch (err) {
        setError(f, describe(err, { totp_required: "Wrong username, password or code" }));
        markInvalid(input, true);
        input.value = "";
        input.focus();
        this._lockout(submit, lockedFor(err));
      }
    });
  }

  // ---- first start ---------------------------------------------------------------------

  showSetup(token) {
    this.setupToken = token;
    this._show(this.setup);
    setError(this.setup, "");
    this.setup.elements.username.focus();
  }

  showSetupNeeded() {
    this._show(this.setupNeeded);
    this.setupNeeded.querySelector("[data-action=recheck]").focus();
  }

  async _submitSetup() {
    const f = this.setup;
    const { username, password, confirm } = f.elements;
    for (const el of [username, password, confirm]) markInvalid(el, false);
    const name = username.value.trim();
    let problem = null;
    let culprit = null;
    if (!USERNAME.test(name)) {
      problem = "Choose a username of 1 to 64 letters, digits or . _ - @";
      culprit = username;
    } else if (password.value.length < 10) {
      problem = "Choose a password of at least 10 characters.";
      culprit = password;
    } else if (password.value !== confirm.value) {
      problem = "The two passwords differ.";
      culprit = confirm;
    }
    if (problem) {
      markInvalid(culprit, true);
      setError(f, problem);
      culprit.focus();
      return;
    }
    await this._sendOnce(f, async () => {
      try {
        const user = await session.createAdmin(this.setupToken, name, password.value);
        password.value = "";
        confirm.value = "";
        this.setupToken = null;
        this.hooks.onSignedIn(user);
      } catch (err) {
        if (err.code === "setup_done") {
          this.login.elements.username.value = "";
          this.showLogin({ notice: "The admin account exists already. Sign in with it." });
          return;
        }
        setError(
          f,
          describe(err, {
            unauthorized:
              "This setup link is not valid. It works only until the first account exists, and the server prints a new one each time it starts.",
          }),
        );
        if (err.code === "weak_password") {
          markInvalid(password, true);
          password.focus();
        }
      }
    });
  }

  // ---- API key ---------------------------------------------------------------------------

  /** @param {string} [error] message shown above the field */
  showKeyForm(error) {
    const f = this.keyForm;
    this._show(f);
    const input = f.elements.key;
    setError(f, error);
    input.value = "";
    markInvalid(input, Boolean(error));
    input.focus();
  }

  _submitKey() {
    const f = this.keyForm;
    const input = f.elements.key;
    const key = input.value.trim();
    if (!key) {
      setError(f, "Enter the API key.");
      markInvalid(input, true);
      input.focus();
      return;
    }
    input.value = "";
    this.hooks.onKey(key);
  }
}
