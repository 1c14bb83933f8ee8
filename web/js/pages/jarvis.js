// Jarvis page: conversations with the homelab assistant (docs/protocol.md,
// "Jarvis"). The list of conversations (newest first) sits beside the open
// one (`#/jarvis/<id>`); a question is POSTed only once the page follows the
// conversation's channel, and the answer streams in as `answer.*`
// publications. Opening a conversation whose answer is still running (a
// reload, another tab) subscribes with `since` = the answer's stream
// position: the reply replays the answer so far, the rest follows live, and
// every publication is applied once (by offset). Answers are untrusted text,
// rendered by js/markdown.js with DOM nodes only.

import * as api from "../api.js";
import { confirmAction, openDialog } from "../dialog.js";
import { h, setText } from "../dom.js";
import { errorBox, hide, show } from "../forms.js";
import { renderMarkdown } from "../markdown.js";
import { describe } from "../messages.js";
import * as router from "../router.js";
import { timeEl } from "../timeago.js";

const BASE = "/api/v1/jarvis/conversations";
const MAX_QUESTION = 32 * 1024;
const ENDED = new Set(["complete", "cancelled", "interrupted", "failed"]);
const STATE_LABEL = { cancelled: "stopped", interrupted: "interrupted", failed: "failed" };

const SpeechRecognition = window.SpeechRecognition || window.webkitSpeechRecognition || null;
const speech = "speechSynthesis" in window && typeof window.SpeechSynthesisUtterance === "function" ? window.speechSynthesis : null;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Most recently active first; a stable sort, so ties keep the server's order (times are in seconds). */
function byRecent(a, b) {
  return String(b.updated_at ?? "").localeCompare(String(a.updated_at ?? ""));
}

function ms(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return null;
  return n >= 10000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/** One message bubble, kept up to date as its answer streams. */
class MessageView {
  constructor(message) {
    this.id = message.id;
    this.role = message.role === "user" ? "user" : "assistant";
    this.text = "";
    this.state = "complete";
    this.error = null;
    this.provider = null;
    this.model = null;
    this.usage = null;
    this.latency = null;
    this.partial = false; // part of the streamed text was missed; the stored text replaces it at the end
    this.frame = 0;

    this.body = h("div", { class: "jv-body" });
    this.status = h("div", { class: "jv-status" });
    this.meta = h("p", { class: "jv-meta" });
    this.tools = h("div", { class: "jv-tools" });
    this.el = h(
      "li",
      { class: `jv-msg jv-${this.role}`, dataset: { role: this.role } },
      h("span", { class: "sr-only", text: this.role === "user" ? "You said:" : "Jarvis answered:" }),
      this.body,
      this.status,
      h("div", { class: "jv-foot" }, this.meta, this.tools),
    );
    this.apply(message);
  }

  /** Take over what the server stored (or the POST answered) about this message. */
  apply(m) {
    if (m.id !== undefined && m.id !== null) {
      this.id = m.id;
      this.el.dataset.id = String(m.id);
    }
    if (typeof m.content === "string" && (m.content || m.state !== "streaming")) this.text = m.content;
    if (typeof m.state === "string") this.state = m.state;
    this.error = m.error ?? this.error;
    this.provider = m.provider ?? this.provider;
    this.model = m.model ?? this.model;
    this.usage = m.usage ?? this.usage;
    this.latency = m.latency ?? this.latency;
    this.render();
  }

  /** Render on the next frame: deltas can come faster than the screen needs them. */
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    const streaming = this.state === "streaming";
    this.el.dataset.state = this.state;
    this.el.setAttribute("aria-busy", String(streaming));
    if (this.role === "user") {
      this.body.replaceChildren(h("p", { class: "jv-question", text: this.text }));
    } else if (this.text) {
      this.body.replaceChildren(renderMarkdown(this.text));
    } else {
      this.body.replaceChildren(h("p", { class: "jv-thinking", text: streaming ? "Thinking…" : "" }));
    }
    if (this.role === "user") return;

    const label = STATE_LABEL[this.state];
    if (label) {
      const tone = this.state === "cancelled" ? "muted" : "crit";
      const parts = [h("span", { class: "badge", dataset: { tone }, text: label })];
      if (this.error && this.state !== "cancelled") parts.push(h("span", { class: "jv-error-text", text: this.error }));
      this.status.replaceChildren(h("p", { class: `jv-marker jv-marker-${this.state}`, attrs: { role: this.state === "cancelled" ? "status" : "alert" } }, parts));
      this.status.hidden = false;
    } else {
      this.status.replaceChildren();
      this.status.hidden = true;
    }

    const bits = [];
    if (this.provider) bits.push(h("span", { class: "jv-provider", text: this.model ? `${this.provider} · ${this.model}` : this.provider }));
    const first = ms(this.latency?.first_token_ms);
    const total = ms(this.latency?.total_ms);
    if (first) bits.push(h("span", { class: "jv-latency-first", text: `first token ${first}` }));
    if (total) bits.push(h("span", { class: "jv-latency-total", text: `total ${total}` }));
    const tokens = this.usage?.completion_tokens;
    if (typeof tokens === "number") bits.push(h("span", { class: "jv-tokens", text: `${tokens} token${tokens === 1 ? "" : "s"}` }));
    if (streaming && !bits.length) bits.push(h("span", { text: "answering…" }));
    this.meta.replaceChildren(...bits);
    this.meta.hidden = bits.length === 0;

    this.tools.replaceChildren();
    if (speech && this.text && !streaming) {
      const say = h("button", { type: "button", class: "btn btn-small btn-quiet jv-say", text: "Read aloud" });
      say.addEventListener("click", () => {
        if (speech.speaking) {
          speech.cancel();
          return;
        }
        speech.speak(new SpeechSynthesisUtterance(this.body.textContent || this.text));
      });
      this.tools.append(say);
    }
  }
}

export class JarvisPage {
  /**
   * @param {HTMLElement} root
   * @param {object} ctx
   * @param {() => import("../connection.js").Connection | null} ctx.connection
   * @param {() => string} ctx.param the conversation id from the route
   */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.visible = false;
    this.conversations = [];
    this.current = null; // the open conversation (as the server last described it)
    this.views = new Map(); // message id -> MessageView
    this.pendingQuestion = null; // the question's bubble while its POST is in flight
    this.answering = null; // id of the answer running in the open conversation
    this.follow = null; // {conn, channel, unsubscribe, ready}
    this.seen = new Set(); // offsets applied for the followed channel
    this.openSeq = 0;
    this.listSeq = 0;
    this.sending = false;
    this.focusAfterOpen = false;
    this.recognition = null;

    this.heading = h("h1", { id: "jarvis-title", tabIndex: -1, text: "Jarvis" });
    this.live = h("span", { class: "live-pill", id: "jarvis-live", dataset: { state: "off" }, text: "Not live" });
    this.error = errorBox();
    this.error.id = "jarvis-error";

    // Conversation list.
    this.newButton = h("button", { type: "button", class: "btn btn-primary", id: "jarvis-new", text: "New conversation" });
    this.newButton.addEventListener("click", () => this._create());
    this.list = h("ul", { class: "jv-list", id: "jarvis-conversations" });
    this.listEmpty = h("p", { class: "empty", id: "jarvis-list-empty", text: "No conversations yet." });
    this.listPanel = h(
      "section",
      { class: "panel panel-pad jv-side", attrs: { "aria-labelledby": "jarvis-list-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "jarvis-list-title", text: "Conversations" })),
      this.newButton,
      this.listEmpty,
      this.list,
    );

    // The open conversation.
    this.back = h("a", { class: "btn btn-small btn-quiet jv-back", href: "#/jarvis", text: "← Conversations" });
    this.title = h("h2", { id: "jarvis-conversation-title", class: "jv-title" });
    this.rename = h("button", { type: "button", class: "btn btn-small", id: "jarvis-rename", text: "Rename" });
    this.rename.addEventListener("click", () => this._rename());
    this.remove = h("button", { type: "button", class: "btn btn-small btn-danger", id: "jarvis-delete", text: "Delete" });
    this.remove.addEventListener("click", () => this._delete());
    this.messages = h("ol", { class: "jv-messages", id: "jarvis-messages", attrs: { "aria-live": "polite", "aria-relevant": "additions" } });
    this.intro = h("p", { class: "empty jv-intro", text: "Ask about your homelab: containers, disks, alerts…" });
    this.chatError = errorBox();
    this.chatError.id = "jarvis-chat-error";

    this.input = h("textarea", {
      id: "jarvis-input",
      class: "jv-input",
      rows: 2,
      placeholder: "Ask Jarvis…",
      maxLength: MAX_QUESTION,
      attrs: { "aria-label": "Your question", enterkeyhint: "send" },
    });
    this.send = h("button", { type: "submit", class: "btn btn-primary", id: "jarvis-send", text: "Send" });
    this.stop = h("button", { type: "button", class: "btn btn-danger", id: "jarvis-stop", text: "Stop", hidden: true });
    this.stop.addEventListener("click", () => this._cancel());
    this.mic = null;
    if (SpeechRecognition) {
      this.mic = h("button", { type: "button", class: "btn btn-quiet", id: "jarvis-mic", text: "Speak", attrs: { "aria-pressed": "false" } });
      this.mic.addEventListener("click", () => this._listen());
    }
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.composer.requestSubmit();
      }
    });
    this.composer = h(
      "form",
      { class: "jv-composer", id: "jarvis-composer", noValidate: true },
      this.input,
      h("div", { class: "jv-composer-actions" }, this.mic, this.stop, this.send),
    );
    this.composer.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this._ask();
    });

    this.chat = h(
      "section",
      { class: "panel panel-pad jv-chat", id: "jarvis-chat", attrs: { "aria-labelledby": "jarvis-conversation-title" } },
      h("div", { class: "jv-chat-head" }, this.back, this.title, h("div", { class: "jv-chat-actions" }, this.rename, this.remove)),
      this.intro,
      this.messages,
      this.chatError,
      this.composer,
    );
    this.none = h(
      "section",
      { class: "panel panel-pad jv-none", id: "jarvis-none" },
      h("p", { class: "empty", text: "Choose a conversation, or start a new one." }),
    );

    this.layout = h("div", { class: "jv-layout", dataset: { view: "list" } }, this.listPanel, this.chat, this.none);
    root.append(h("div", { class: "section-head" }, this.heading, this.live), this.error, this.layout);
  }

  // ---- page lifecycle -------------------------------------------------------------------------

  show() {
    this.visible = true;
    const id = this.ctx.param();
    this._loadList();
    if (!id) {
      this._close();
      return;
    }
    if (this.current && this.current.id === id && this.follow && this.follow.conn === this.ctx.connection()) return;
    this._open(id);
  }

  hide() {
    this.visible = false;
    this._close();
  }

  reset() {
    this.hide();
    this.conversations = [];
    this.list.replaceChildren();
    hide(this.error);
  }

  // ---- conversation list ----------------------------------------------------------------------

  async _loadList() {
    const seq = ++this.listSeq;
    try {
      const r = await api.get(BASE);
      if (seq !== this.listSeq || !this.visible) return;
      this.conversations = (Array.isArray(r.conversations) ? r.conversations : []).filter((c) => c && c.id);
      hide(this.error);
    } catch (err) {
      if (seq !== this.listSeq) return;
      if (err.status !== 401) show(this.error, `Could not load the conversations. ${describe(err)}`);
      return;
    }
    this._renderList();
  }

  _renderList() {
    const items = this.conversations.slice().sort(byRecent);
    this.listEmpty.hidden = items.length > 0;
    const currentId = this.current?.id;
    this.list.replaceChildren(
      ...items.map((c) => {
        const a = h(
          "a",
          { class: "jv-conv", href: router.detailHref("jarvis", c.id) },
          h("span", { class: "jv-conv-title", text: c.title || "Untitled" }),
          timeEl(c.updated_at, { style: "datetime" }),
        );
        if (c.id === currentId) a.setAttribute("aria-current", "true");
        return h("li", { dataset: { id: c.id } }, a);
      }),
    );
  }

  _remember(conversation) {
    const i = this.conversations.findIndex((c) => c.id === conversation.id);
    const { messages, answering, ...summary } = conversation;
    if (i === -1) this.conversations.unshift(summary); // new: on top
    else this.conversations[i] = { ...this.conversations[i], ...summary };
    this._renderList();
  }

  async _create() {
    hide(this.error);
    this.newButton.disabled = true;
    try {
      const c = await api.post(BASE, {});
      this._remember(c);
      this.focusAfterOpen = true; // the hashchange opens it; then the input box takes the focus
      window.location.hash = router.detailHref("jarvis", c.id);
    } catch (err) {
      if (err.status !== 401) show(this.error, `Could not start a conversation. ${describe(err)}`);
    } finally {
      this.newButton.disabled = false;
    }
  }

  async _rename() {
    const c = this.current;
    if (!c) return;
    const id = c.id;
    const result = await openDialog({
      title: "Rename the conversation",
      fields: [{ label: "Title", name: "title", value: c.title ?? "", maxLength: 200, autocomplete: "off", id: "jarvis-rename-title" }],
      confirm: "Rename",
      validate: (v) => (v.title.trim() ? null : "Enter a title."),
      action: (v) => api.patch(`${BASE}/${encodeURIComponent(id)}`, { title: v.title.trim() }),
    });
    if (result && typeof result === "object" && result.id) {
      if (this.current && this.current.id === id) {
        this.current = { ...this.current, ...result };
        setText(this.title, result.title);
      }
      this._remember(result);
    }
  }

  async _delete() {
    const c = this.current;
    if (!c) return;
    const ok = await confirmAction({
      title: `Delete “${c.title || "this conversation"}”?`,
      text: "Its messages are deleted and a running answer stops. This cannot be undone.",
      confirm: "Delete conversation",
      danger: true,
      action: () => api.del(`${BASE}/${encodeURIComponent(c.id)}`),
    });
    if (!ok) return;
    this.conversations = this.conversations.filter((x) => x.id !== c.id);
    this._renderList();
    if (this.current && this.current.id === c.id) window.location.hash = "#/jarvis";
  }

  // ---- the open conversation --------------------------------------------------------------------

  _close() {
    this.openSeq += 1;
    this._unfollow();
    this.current = null;
    this.views.clear();
    this.pendingQuestion = null;
    this.answering = null;
    this.messages.replaceChildren();
    hide(this.chatError);
    this.chat.hidden = true;
    this.none.hidden = false;
    this.layout.dataset.view = "list";
    this._renderList();
    this._renderComposer();
  }

  async _open(id) {
    this._close();
    const seq = this.openSeq;
    this.chat.hidden = false;
    this.none.hidden = true;
    this.layout.dataset.view = "chat";
    setText(this.title, "…");
    this.intro.hidden = true;

    let conv;
    try {
      conv = await this._fetch(id);
      // An answer that has only just started has no stream position yet: ask again shortly.
      for (let n = 0; n < 10 && seq === this.openSeq && this._streamingWithoutPosition(conv); n += 1) {
        await sleep(150);
        conv = await this._fetch(id);
      }
    } catch (err) {
      if (seq !== this.openSeq) return;
      setText(this.title, "Conversation unavailable");
      show(this.chatError, err.status === 404 ? "This conversation does not exist (or is not yours)." : describe(err));
      this.composer.hidden = true;
      this.rename.hidden = true;
      this.remove.hidden = true;
      return;
    }
    if (seq !== this.openSeq) return;
    this.composer.hidden = false;
    this.rename.hidden = false;
    this.remove.hidden = false;
    this._showConversation(conv);
    const last = this._lastStreaming(conv);
    this._follow(conv.channel, last && last.stream ? last.stream : null, { historyFor: last && !last.stream ? last.id : null });
    this._renderList();
    if (this.focusAfterOpen) {
      this.focusAfterOpen = false;
      // After the router has focused the page heading.
      setTimeout(() => this.input.focus(), 50);
    }
  }

  async _fetch(id) {
    return api.get(`${BASE}/${encodeURIComponent(id)}`);
  }

  _lastStreaming(conv) {
    const msgs = Array.isArray(conv.messages) ? conv.messages : [];
    const last = msgs[msgs.length - 1];
    return last && last.role === "assistant" && last.state === "streaming" ? last : null;
  }

  _streamingWithoutPosition(conv) {
    const last = this._lastStreaming(conv);
    return Boolean(last && !last.stream);
  }

  /** Replace the shown messages with what the server stored. */
  _showConversation(conv) {
    this.current = conv;
    this._remember(conv);
    setText(this.title, conv.title || "Untitled");
    this.views.clear();
    this.messages.replaceChildren();
    for (const m of Array.isArray(conv.messages) ? conv.messages : []) this._addView(m);
    const last = this._lastStreaming(conv);
    this.answering = last ? last.id : null;
    this._renderComposer();
    this._scrollToEnd(true);
  }

  _addView(message) {
    const view = new MessageView(message);
    if (message.role === "user") view.el.dataset.key = `q${message.id}`;
    this.views.set(`${view.role}:${message.id}`, view);
    this.messages.append(view.el);
    this.intro.hidden = true;
    return view;
  }

  _answerView(id) {
    return this.views.get(`assistant:${id}`) ?? null;
  }

  _renderComposer() {
    const busy = this.answering !== null;
    this.stop.hidden = !busy;
    this.send.disabled = busy || this.sending === true;
    this.intro.hidden = this.messages.children.length > 0;
  }

  _nearEnd() {
    const doc = document.documentElement;
    return window.innerHeight + window.scrollY >= doc.scrollHeight - 160;
  }

  _scrollToEnd(force = false) {
    if (!this.visible) return;
    if (force || this._nearEnd()) requestAnimationFrame(() => window.scrollTo({ top: document.documentElement.scrollHeight }));
  }

  // ---- the channel --------------------------------------------------------------------------------

  _setLive(state, text) {
    this.live.dataset.state = state;
    setText(this.live, text);
  }

  /**
   * Follow `channel`, from `since` when an answer is running (its publications so far are replayed).
   * `historyFor`: an answer running without a known position; its publications are read from the
   * channel's history once subscribed.
   */
  _follow(channel, since = null, { historyFor = null } = {}) {
    const conn = this.ctx.connection();
    if (!conn || !channel) {
      this._setLive("off", "Not live");
      return;
    }
    if (this.follow && this.follow.conn === conn && this.follow.channel === channel) return;
    this._unfollow();
    this.seen = new Set();
    let ready;
    let failed;
    const promise = new Promise((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    promise.catch(() => {});
    const follow = { conn, channel, unsubscribe: null, ready: promise, buffer: historyFor !== null ? [] : null };
    this.follow = follow;
    this._setLive("pending", "Connecting…");
    follow.unsubscribe = conn.subscribe(
      channel,
      {
        onPublication: (data, pub) => {
          if (this.follow !== follow) return;
          if (follow.buffer) follow.buffer.push(pub);
          else this._apply(pub);
        },
        onSubscribed: () => {
          if (this.follow !== follow) return;
          this._setLive("on", "Live");
          ready();
          if (follow.buffer) this._replayHistory(follow, historyFor);
        },
        onReset: () => {
          // Publications were lost (history gone, or too far behind): take the stored state.
          if (this.follow !== follow) return;
          this.seen = new Set();
          this._resync();
        },
        onError: (err) => {
          if (this.follow !== follow) return;
          this._setLive("off", `Not live: ${err.message}`);
          failed(err);
        },
      },
      { since },
    );
  }

  async _replayHistory(follow, answerId) {
    let pubs = [];
    try {
      const r = await follow.conn.history(follow.channel);
      pubs = Array.isArray(r.publications) ? r.publications : [];
    } catch {
      pubs = [];
    }
    if (this.follow !== follow) return;
    const all = [...pubs, ...(follow.buffer || [])].sort((a, b) => a.offset - b.offset);
    follow.buffer = null;
    for (const pub of all) {
      if (pub.data && pub.data.answer !== answerId) continue;
      this._apply(pub);
    }
  }

  _unfollow() {
    if (this.follow && this.follow.unsubscribe) this.follow.unsubscribe();
    this.follow = null;
    this._setLive("off", "Not live");
  }

  async _resync() {
    const c = this.current;
    if (!c) return;
    const seq = this.openSeq;
    try {
      const conv = await this._fetch(c.id);
      if (seq !== this.openSeq) return;
      this._showConversation(conv);
      const last = this._lastStreaming(conv);
      if (last) this._answerView(last.id).partial = true;
    } catch {
      /* the next answer.end reloads again */
    }
  }

  /** One publication of the followed channel, at most once (by offset). */
  _apply(pub) {
    if (typeof pub.offset === "number") {
      if (this.seen.has(pub.offset)) return;
      this.seen.add(pub.offset);
    }
    const d = pub.data;
    if (!d || typeof d !== "object" || typeof d.type !== "string") return;
    const id = d.answer;
    if (id === undefined || id === null) return;
    switch (d.type) {
      case "answer.start":
        this._startAnswer(id);
        break;
      case "answer.provider": {
        const v = this._startAnswer(id);
        v.provider = d.provider ?? v.provider;
        v.model = d.model ?? v.model;
        v.schedule();
        break;
      }
      case "answer.delta": {
        if (typeof d.text !== "string") return;
        const v = this._startAnswer(id);
        const follow = this._nearEnd();
        v.text += d.text;
        v.schedule();
        if (follow) this._scrollToEnd(true);
        break;
      }
      case "answer.end": {
        const v = this._startAnswer(id);
        v.state = ENDED.has(d.state) ? d.state : "failed";
        v.error = d.error ?? null;
        v.provider = d.provider ?? v.provider;
        v.model = d.model ?? v.model;
        v.usage = d.usage ?? v.usage;
        v.latency = d.latency ?? v.latency;
        v.render();
        if (this.answering === id) this.answering = null;
        this._renderComposer();
        if (v.partial) this._resync();
        this._loadList(); // the conversation moved to the top
        break;
      }
      default:
        break; // answer.cancel and anything newer: not for us
    }
  }

  /** The bubble of answer `id`, made when it is not on the page yet (an answer asked elsewhere). */
  _startAnswer(id) {
    let v = this._answerView(id);
    if (!v) {
      v = this._addView({ id, role: "assistant", content: "", state: "streaming" });
      if (this.answering === null) this.answering = id;
      this._renderComposer();
    }
    return v;
  }

  // ---- asking and stopping -------------------------------------------------------------------------

  async _ask() {
    const c = this.current;
    const text = this.input.value.trim();
    hide(this.chatError);
    if (!c || this.sending) return;
    if (!text) {
      this.input.focus();
      return;
    }
    if (this.answering !== null) {
      show(this.chatError, "Jarvis is still answering; wait or press Stop.");
      return;
    }
    this.sending = true;
    this._renderComposer();
    const seq = this.openSeq;
    // The question's bubble goes up at once, before any answer.start can arrive.
    const question = this._addView({ id: null, role: "user", content: text, state: "complete" });
    this.pendingQuestion = question;
    this.input.value = "";
    this._scrollToEnd(true);
    try {
      // Follow the channel first, so no part of the answer goes by unseen.
      this._follow(c.channel);
      await Promise.race([
        this.follow ? this.follow.ready : Promise.reject(new Error("not connected")),
        sleep(15000).then(() => {
          throw new Error("the live connection is not ready");
        }),
      ]);
      const r = await api.post(`${BASE}/${encodeURIComponent(c.id)}/messages`, { content: text });
      if (seq !== this.openSeq) return;
      question.apply(r.question ?? {});
      this.views.set(`user:${question.id}`, question);
      const answer = r.answer ?? {};
      const v = this._answerView(answer.id);
      if (v) {
        if (v.el.previousElementSibling !== question.el) question.el.after(v.el);
        if (v.state === "streaming") this.answering = answer.id;
      } else {
        this._addView({ ...answer, content: "", state: answer.state ?? "streaming" });
        this.answering = answer.id;
      }
    } catch (err) {
      if (seq !== this.openSeq) return;
      question.el.remove();
      if (!this.input.value) this.input.value = text;
      if (err.status === 401) return;
      const msg =
        err instanceof api.ApiError
          ? describe(err, {
              answer_in_progress: "Jarvis is still answering in this conversation; wait or press Stop.",
              not_found: "This conversation no longer exists.",
            })
          : `Not sent: ${err.message}`;
      show(this.chatError, msg);
    } finally {
      if (seq === this.openSeq) {
        this.pendingQuestion = null;
        this.sending = false;
        this._renderComposer();
      }
    }
  }

  async _cancel() {
    const c = this.current;
    if (!c) return;
    this.stop.disabled = true;
    try {
      await api.post(`${BASE}/${encodeURIComponent(c.id)}/cancel`, {});
    } catch (err) {
      if (err.status !== 401) show(this.chatError, `Could not stop the answer. ${describe(err)}`);
    } finally {
      this.stop.disabled = false;
    }
  }

  _listen() {
    if (!SpeechRecognition || !this.mic) return;
    if (this.recognition) {
      this.recognition.stop();
      return;
    }
    const rec = new SpeechRecognition();
    rec.lang = document.documentElement.lang || "en";
    rec.interimResults = false;
    rec.maxAlternatives = 1;
    rec.addEventListener("result", (ev) => {
      const said = Array.from(ev.results)
        .map((r) => r[0]?.transcript ?? "")
        .join(" ")
        .trim();
      if (said) this.input.value = this.input.value ? `${this.input.value.trimEnd()} ${said}` : said;
    });
    const done = () => {
      this.recognition = null;
      this.mic.setAttribute("aria-pressed", "false");
      this.mic.textContent = "Speak";
      this.input.focus();
    };
    rec.addEventListener("end", done);
    rec.addEventListener("error", (ev) => {
      show(this.chatError, `Voice input stopped: ${ev.error || "unavailable"}.`);
    });
    this.recognition = rec;
    this.mic.setAttribute("aria-pressed", "true");
    this.mic.textContent = "Listening…";
    try {
      rec.start();
    } catch {
      done();
    }
  }
}
