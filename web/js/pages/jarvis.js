// Jarvis page: conversations with the homelab assistant (docs/protocol.md,
// "Jarvis"). The list of conversations (newest first) sits beside the open
// one (`#/jarvis/<id>`); a question is POSTed only once the page follows the
// conversation's channel, and the answer streams in as `answer.*`
// publications. Opening a conversation whose answer is still running (a
// reload, another tab) subscribes with `since` = the answer's stream
// position: the reply replays the answer so far, the rest follows live, and
// every publication is applied once (by offset). Answers are untrusted text,
// rendered by js/markdown.js with DOM nodes only.
//
// Tools ("Tools and approval"): an answer that asks for tools ends with
// finish_reason "tool_calls"; each call is then published as `tool.call`
// events (upserted by `tool_call.id`, never moving back to an earlier state)
// and shown inside the bubble of the answer that asked for it. An answer that
// only asked for tools is a compact line, not an empty bubble. Messages of
// role "tool" (the results the model read) are not shown: the entries show
// the result. Tool names, arguments and results are untrusted: textContent only.
//
// One question, several answers: between an answer that ended asking for tools and the next one, the
// question is still being answered (Stop works, Send waits) until it settles: an answer ends with another
// finish_reason (or cancelled / failed / interrupted), a call waits for a person (pending: asking again is
// allowed and expires it), a call was stopped or expired, or the server says it has nothing left to do
// (`answering: false` from GET …/conversations/{id}, which is also what a reload starts from).
//
// Conversations the server keeps for admins: `maintenance` (suggestions, owned by "server") and `mcp-…`
// (an outside agent's calls; their tool calls have `answer: null` and are listed in order at the end).
// They are marked in the list and have no question box, only a line saying why.
//
// Voice, when the browser has it (feature-detected; nothing shows otherwise): #jarvis-mic fills the question
// box by speech recognition, #jarvis-read-aloud (aria-pressed, remembered) speaks each answer as it ends.

import * as api from "../api.js";
import { confirmAction, openDialog } from "../dialog.js";
import { h, setText } from "../dom.js";
import { errorBox, hide, show } from "../forms.js";
import { renderMarkdown } from "../markdown.js";
import { describe, sentence } from "../messages.js";
import * as router from "../router.js";
import { timeEl } from "../timeago.js";

const BASE = "/api/v1/jarvis/conversations";
const MAX_QUESTION = 32 * 1024;
const ENDED = new Set(["complete", "cancelled", "interrupted", "failed"]);
const STATE_LABEL = { cancelled: "stopped", interrupted: "interrupted", failed: "failed" };
const READ_ALOUD_KEY = "nebula.jarvis.readAloud";

/** "server" (Maintenance suggestions), "agent" (an outside agent's calls over MCP) or null (a chat). */
export function conversationKind(c) {
  if (!c || typeof c !== "object") return null;
  const id = String(c.id ?? "");
  if (id === "maintenance" || c.owner === "server") return "server";
  if (id.startsWith("mcp-")) return "agent";
  return null;
}

const KIND_LABEL = { server: "server", agent: "agent" };
const KIND_HINT = { server: "Kept by the server", agent: "An outside agent's tool calls" };
const KIND_NOTE = {
  server: "Suggestions the server makes on its own schedule: approve or reject them here. To ask Jarvis something, start a conversation of your own.",
  agent: "Tool calls an outside agent made over MCP: approve or reject them here. To ask Jarvis something, start a conversation of your own.",
};

// ---- tool calls -------------------------------------------------------------------------------------
//
// Test and styling hooks (kept stable):
//   .jv-calls                          the list of an answer's tool calls (inside its bubble)
//   [data-tool-call="<id>"]            one call's entry, role=group, with data-state="<state>"
//                                      (pending | running | done | failed | rejected | refused | expired)
//   .jv-call-state                     the state, as words (a badge)
//   .jv-call-args                      the arguments (pretty-printed when they are JSON, else as sent)
//   .jv-call-result                    <details> with the result (JSON), once there is one
//   .jv-call-outcome                   the error / decision line (failed, rejected, refused, expired)
//   [data-action=approve|reject]       the buttons of a pending call (the approval card)
//   .jv-call-reason                    the optional reason for rejecting
//   .jv-tool-error                     why approving / rejecting did not work (role=alert)
//   #jarvis-agent-calls                calls that belong to no answer (an outside agent's, over MCP)
//   .jv-conv-kind                      the "server" / "agent" label of a conversation in the list
//   #jarvis-composer-note              instead of the question box in those conversations
//   #jarvis-mic, #jarvis-read-aloud    voice, only when the browser has it
// An assistant bubble that only asked for tools has data-kind="tools".

const CALL_LABEL = {
  pending: "waiting for approval",
  running: "running",
  done: "done",
  failed: "failed",
  rejected: "rejected",
  refused: "refused",
  expired: "expired",
};
const CALL_TONE = { pending: "warn", running: "accent", done: "ok", failed: "crit", rejected: "muted", refused: "crit", expired: "muted" };
const CALL_RANK = { pending: 0, running: 1 }; // every other (final) state: 2

function callRank(state) {
  return CALL_RANK[state] ?? 2;
}

/**
 * `text` re-indented when it is JSON, else unchanged. Only whitespace between tokens changes: strings and
 * numbers keep their exact text (no re-serialising, which could round big numbers or drop duplicate
 * keys): what the approver reads is what runs.
 */
export function prettyArguments(text) {
  const raw = String(text ?? "");
  try {
    JSON.parse(raw);
  } catch {
    return raw;
  }
  let out = "";
  let depth = 0;
  let inString = false;
  const pad = () => `\n${"  ".repeat(depth)}`;
  for (let i = 0; i < raw.length; i += 1) {
    const c = raw[i];
    if (inString) {
      out += c;
      if (c === "\\") {
        out += raw[i + 1] ?? "";
        i += 1;
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") continue;
    if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      let j = i + 1;
      while (j < raw.length && " \t\n\r".includes(raw[j])) j += 1;
      if (raw[j] === close) {
        out += c + close;
        i = j;
      } else {
        depth += 1;
        out += c + pad();
      }
    } else if (c === "}" || c === "]") {
      depth -= 1;
      out += pad() + c;
    } else if (c === ",") out += `,${pad()}`;
    else if (c === ":") out += ": ";
    else out += c;
  }
  return out;
}

function prettyValue(v) {
  try {
    return JSON.stringify(v, null, 2) ?? String(v);
  } catch {
    return String(v);
  }
}

/** One tool call: an entry under its answer, or, while it waits for a person, an approval card. */
class ToolCallView {
  /** @param {object} call the API's tool call  @param {(view: ToolCallView, action: string) => void} onDecide */
  constructor(call, onDecide) {
    this.call = call;
    this.id = call.id;
    this.onDecide = onDecide;
    this.busy = null; // "approve" | "reject" while the request is in flight
    this.notice = ""; // why the last decision did not go through
    this.approveBlocked = false; // 403: this principal may not approve it (rejecting still works)
    this.titleId = `jv-call-${call.id}-title`;
    this.errorId = `jv-call-${call.id}-error`;

    this.el = h("div", {
      class: "jv-call",
      tabIndex: -1, // takes the focus when its buttons go (after a decision)
      dataset: { toolCall: String(call.id) },
      attrs: { role: "group", "aria-labelledby": this.titleId },
    });
    this.name = h("code", { class: "jv-call-name" });
    this.badge = h("span", { class: "badge jv-call-state" });
    this.title = h("p", { class: "jv-call-title", id: this.titleId });
    this.desc = h("p", { class: "jv-call-desc" });
    this.role = h("p", { class: "jv-call-role" });
    this.by = h("p", { class: "jv-call-by", hidden: true });
    this.args = h("pre", { class: "jv-call-args" });
    this.outcome = h("p", { class: "jv-call-outcome" });
    this.result = h("details", { class: "jv-call-result" });
    this.error = h("p", { class: "jv-tool-error", id: this.errorId, attrs: { role: "alert" }, hidden: true });

    this.approve = h("button", { type: "button", class: "btn btn-small btn-primary", dataset: { action: "approve" } });
    this.reject = h("button", { type: "button", class: "btn btn-small btn-danger", dataset: { action: "reject" } });
    this.approve.addEventListener("click", () => this.onDecide(this, "approve"));
    this.reject.addEventListener("click", () => this.onDecide(this, "reject"));
    this.reason = h("input", {
      type: "text",
      class: "jv-call-reason",
      maxLength: 500,
      placeholder: "Reason (optional)",
      autocomplete: "off",
    });
    this.reason.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        this.onDecide(this, "reject");
      }
    });
    this.actions = h("div", { class: "jv-call-actions" }, this.approve, this.reason, this.reject);

    this.el.append(
      h("div", { class: "jv-call-head" }, this.title, this.badge),
      this.desc,
      this.role,
      this.by,
      this.args,
      this.outcome,
      this.result,
      this.actions,
      this.error,
    );
    this.render();
  }

  /** Take a newer description of the call; an older state (a replay, a late POST answer) is ignored. */
  update(call) {
    if (!call || call.id !== this.id) return false;
    if (callRank(call.state) < callRank(this.call.state)) return false;
    this.call = { ...this.call, ...call };
    this.render();
    return true;
  }

  get pending() {
    return this.call.state === "pending";
  }

  render() {
    const c = this.call;
    const state = typeof c.state === "string" ? c.state : "pending";
    const name = String(c.name ?? "tool");
    const pending = state === "pending";
    this.el.dataset.state = state;
    this.el.classList.toggle("jv-call-card", pending);
    const label = CALL_LABEL[state] ?? state;

    setText(this.name, name);
    this.title.replaceChildren(
      h("span", { class: "sr-only", text: pending ? "Approval needed: " : "Tool call: " }),
      this.name,
    );
    setText(this.badge, label);
    this.badge.dataset.tone = CALL_TONE[state] ?? "muted";

    setText(this.desc, pending ? String(c.description ?? "") : "");
    this.desc.hidden = !pending || !c.description;
    setText(this.role, pending && c.required_role ? `Needs the ${c.required_role} role.` : "");
    this.role.hidden = !(pending && c.required_role);
    // A call of no answer (an outside agent's): who asked for it is the context there is.
    const agent = (c.answer === null || c.answer === undefined) && c.requested_by;
    setText(this.by, agent ? `Requested by ${c.requested_by}${c.requested_at ? ` at ${String(c.requested_at).replace("T", " ").replace("Z", " UTC")}` : ""}.` : "");
    this.by.hidden = !agent;

    const args = String(c.arguments ?? "");
    setText(this.args, pending ? prettyArguments(args) : args);
    this.args.hidden = args === "" || (!pending && (args === "{}" || args.trim() === ""));
    this.args.setAttribute("aria-label", `Arguments of ${name}`);

    // The decision or the error, in words.
    const err = c.result && c.result.ok === false ? c.result.error ?? {} : null;
    let line = "";
    if (state === "rejected") line = c.decided_by ? `Rejected by ${c.decided_by}.` : "Rejected.";
    else if (state === "expired") line = err && err.message ? `Not run: ${sentence(err.message)}` : "Not run: a new question was asked while it waited.";
    else if (state === "running" && c.policy === "approval" && c.decided_by) line = `Approved by ${c.decided_by}; running…`;
    else if (state === "running") line = "Running…";
    if (err && (err.message || err.code) && state !== "expired") {
      if (state === "rejected") {
        if (err.message) line = String(err.message); // "alice declined this call: <reason>"
      } else {
        const code = err.code && err.code !== state ? `${err.code}: ` : "";
        line = `${code}${err.message ?? ""}`;
      }
    }
    setText(this.outcome, line);
    this.outcome.hidden = !line;
    this.outcome.dataset.tone = err && state !== "rejected" && state !== "expired" ? "crit" : "muted";

    if (c.result !== null && c.result !== undefined) {
      const body = c.result.ok === true ? c.result.result : c.result;
      const open = this.result.open;
      this.result.replaceChildren(
        h("summary", { text: c.result.ok === false ? "Details" : "Result" }),
        h("pre", { class: "jv-call-result-json" }, h("code", { text: prettyValue(body) })),
      );
      this.result.open = open;
      this.result.hidden = false;
    } else {
      this.result.replaceChildren();
      this.result.hidden = true;
    }

    // The approval card's buttons.
    this.actions.hidden = !pending;
    setText(this.approve, this.busy === "approve" ? "Approving…" : "Approve");
    setText(this.reject, this.busy === "reject" ? "Rejecting…" : "Reject");
    this.approve.setAttribute("aria-label", `Approve ${name}`);
    this.reject.setAttribute("aria-label", `Reject ${name}`);
    this.reason.setAttribute("aria-label", `Reason for rejecting ${name} (optional)`);
    this.approve.disabled = !pending || this.busy !== null || this.approveBlocked;
    this.reject.disabled = !pending || this.busy !== null;
    this.reason.disabled = !pending || this.busy !== null;
    if (this.notice) {
      this.approve.setAttribute("aria-describedby", this.errorId);
      this.reject.setAttribute("aria-describedby", this.errorId);
    } else {
      this.approve.removeAttribute("aria-describedby");
      this.reject.removeAttribute("aria-describedby");
    }
    setText(this.error, this.notice);
    this.error.hidden = !this.notice;
  }
}

const SpeechRecognition = window.SpeechRecognition || window.webkitSpeechRecognition || null;
const speech =
  typeof window.SpeechSynthesisUtterance === "function" && window.speechSynthesis && typeof window.speechSynthesis.speak === "function"
    ? window.speechSynthesis
    : null;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** How often an open question with no answer streaming asks the server whether it still has work. */
const TURN_POLL_MS = 1500;

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
    this.finishReason = null;
    this.asked = []; // the tool calls the model asked for ({id, name, arguments}), from answer.end
    this.frame = 0;

    this.body = h("div", { class: "jv-body" });
    this.status = h("div", { class: "jv-status" });
    this.meta = h("p", { class: "jv-meta" });
    this.tools = h("div", { class: "jv-tools" });
    this.calls = h("div", { class: "jv-calls", hidden: true }); // ToolCallView elements, by id
    this.srLabel = h("span", { class: "sr-only", text: this.role === "user" ? "You said:" : "Jarvis answered:" });
    this.el = h(
      "li",
      { class: `jv-msg jv-${this.role}`, dataset: { role: this.role } },
      this.srLabel,
      this.body,
      this.calls,
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
    if (typeof m.finish_reason === "string") this.finishReason = m.finish_reason;
    if (Array.isArray(m.tool_calls) && m.tool_calls.length) this.asked = m.tool_calls;
    this.render();
  }

  /** Show a tool call's entry in this answer (oldest call first). */
  attachCall(view) {
    if (view.el.parentElement !== this.calls) {
      const next = Array.from(this.calls.children).find((el) => Number(el.dataset.toolCall) > Number(view.id));
      this.calls.insertBefore(view.el, next ?? null);
    }
    this.calls.hidden = false;
    this.render();
  }

  /** An answer that only asked for tools: no text of its own. */
  get toolsOnly() {
    return this.role === "assistant" && !this.text && this.state !== "streaming" && (this.finishReason === "tool_calls" || this.calls.children.length > 0);
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
    const toolsOnly = this.toolsOnly;
    this.el.classList.toggle("jv-toolsonly", toolsOnly);
    if (toolsOnly) this.el.dataset.kind = "tools";
    else delete this.el.dataset.kind;
    if (this.role === "assistant") setText(this.srLabel, toolsOnly ? "Jarvis used tools:" : "Jarvis answered:");
    if (this.role === "user") {
      this.body.replaceChildren(h("p", { class: "jv-question", text: this.text }));
    } else if (toolsOnly) {
      const names = [...new Set((this.asked.length ? this.asked : Array.from(this.calls.children, (el) => ({ name: el.querySelector(".jv-call-name")?.textContent })))
        .map((c) => c && c.name)
        .filter(Boolean)
        .map(String))];
      const states = Array.from(this.calls.children, (el) => el.dataset.state);
      const lead = states.includes("pending")
        ? "Jarvis asks to use"
        : states.length && states.every((st) => callRank(st) === 2)
          ? "Jarvis checked"
          : "Jarvis is checking";
      this.body.replaceChildren(h("p", { class: "jv-checking", text: names.length ? `${lead}: ${names.join(", ")}` : `${lead}…` }));
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
    if (toolsOnly) bits.length = 0; // compact: the answer with words carries the details
    this.meta.replaceChildren(...bits);
    this.meta.hidden = bits.length === 0;

    this.tools.replaceChildren();
    if (speech && this.text && !streaming) {
      const say = h("button", { type: "button", class: "btn btn-small btn-quiet jv-say", text: "Listen", attrs: { "aria-label": "Read this answer aloud" } });
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
    this.calls = new Map(); // tool call id -> ToolCallView (of the open conversation)
    this.pendingQuestion = null; // the question's bubble while its POST is in flight
    this.answering = null; // id of the answer running in the open conversation
    this.kind = null; // conversationKind() of the open conversation
    this.turnOpen = false; // between two answers of one question: tools run, the next answer is due
    this.turnTimer = 0; // while turnOpen: asks the server whether it still has something to do
    this.turnIdle = 0; // consecutive "answering: false" replies
    this.cancelAsked = false; // Stop was pressed for the question under way
    this.follow = null; // {conn, channel, unsubscribe, ready}
    this.seen = new Set(); // offsets applied for the followed channel
    this.openSeq = 0;
    this.listSeq = 0;
    this.sending = false;
    this.focusAfterOpen = false;
    this.recognition = null;
    this.readAloud = false;

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
    // Calls that belong to no answer (an outside agent's), oldest first, after the messages.
    this.loose = h("div", { class: "jv-calls jv-loose", id: "jarvis-agent-calls", hidden: true });
    // Instead of the question box where asking makes no sense (maintenance, MCP).
    this.note = h("p", { class: "jv-note", id: "jarvis-composer-note", hidden: true });

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
      this.mic = h("button", {
        type: "button",
        class: "btn btn-quiet",
        id: "jarvis-mic",
        text: "Speak",
        title: "Speak your question",
        attrs: { "aria-pressed": "false" },
      });
      this.mic.addEventListener("click", () => this._listen());
    }
    this.aloud = null;
    if (speech) {
      try {
        this.readAloud = window.localStorage.getItem(READ_ALOUD_KEY) === "1";
      } catch {
        this.readAloud = false;
      }
      this.aloud = h("button", {
        type: "button",
        class: "btn btn-quiet",
        id: "jarvis-read-aloud",
        text: "Read aloud",
        title: "Read each answer aloud when it ends",
        attrs: { "aria-pressed": String(this.readAloud) },
      });
      this.aloud.addEventListener("click", () => this._toggleReadAloud());
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
      h("div", { class: "jv-composer-actions" }, this.mic, this.aloud, this.stop, this.send),
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
      this.loose,
      this.chatError,
      this.note,
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
    if (this.recognition) this.recognition.abort?.();
    if (speech && this.readAloud) speech.cancel();
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
        const kind = conversationKind(c);
        const a = h(
          "a",
          { class: "jv-conv", href: router.detailHref("jarvis", c.id) },
          h("span", { class: "jv-conv-title", text: c.title || "Untitled" }),
          h(
            "span",
            { class: "jv-conv-line" },
            kind
              ? h("span", {
                  class: "badge jv-conv-kind",
                  title: KIND_HINT[kind],
                  text: KIND_LABEL[kind],
                  dataset: { tone: kind === "server" ? "warn" : "accent", kind },
                })
              : null,
            timeEl(c.updated_at, { style: "datetime" }),
          ),
        );
        if (c.id === currentId) a.setAttribute("aria-current", "true");
        return h("li", { dataset: kind ? { id: c.id, kind } : { id: c.id } }, a);
      }),
    );
  }

  _remember(conversation) {
    const i = this.conversations.findIndex((c) => c.id === conversation.id);
    const { messages, answering, tool_calls: calls, ...summary } = conversation;
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
    this.calls.clear();
    this.pendingQuestion = null;
    this.answering = null;
    this._endTurn();
    this.kind = null;
    this.messages.replaceChildren();
    this.loose.replaceChildren();
    this.loose.hidden = true;
    this.note.hidden = true;
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
    // Maintenance suggestions and an outside agent's calls: decided here, not asked.
    this.kind = conversationKind(conv);
    this.composer.hidden = this.kind !== null;
    setText(this.note, KIND_NOTE[this.kind] ?? "");
    this.note.hidden = this.kind === null;
    this.rename.hidden = false;
    this.remove.hidden = false;
    this._showConversation(conv);
    const last = this._lastStreaming(conv);
    // An answer that asked for tools: its calls may still run (or wait for approval) and the next answer
    // may be starting; replay from it (tool.call events upsert, its own text is not added twice).
    const from = last ?? this._lastAskingForTools(conv);
    this._follow(conv.channel, from && from.stream ? from.stream : null, { historyFor: last && !last.stream ? last.id : null });
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

  /** The messages shown as bubbles: "tool" messages (results given to the model) are not. */
  _shown(conv) {
    return (Array.isArray(conv.messages) ? conv.messages : []).filter((m) => m && m.role !== "tool");
  }

  _lastStreaming(conv) {
    const msgs = this._shown(conv);
    const last = msgs[msgs.length - 1];
    return last && last.role === "assistant" && last.state === "streaming" ? last : null;
  }

  /** The last answer, when it ended asking for tools (the question may go on). */
  _lastAskingForTools(conv) {
    const msgs = this._shown(conv);
    const last = msgs[msgs.length - 1];
    return last && last.role === "assistant" && last.finish_reason === "tool_calls" ? last : null;
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
    this.calls.clear();
    this.messages.replaceChildren();
    this.loose.replaceChildren();
    this.loose.hidden = true;
    for (const m of this._shown(conv)) this._addView(m);
    for (const call of Array.isArray(conv.tool_calls) ? conv.tool_calls : []) this._upsertCall(call, { quiet: true });
    const last = this._lastStreaming(conv);
    this.answering = last ? last.id : null;
    // Tools running between two answers (the server knows: `answering`), or the next answer is due.
    this.turnOpen = !last && conv.answering === true && this._turnGoesOn();
    this.turnIdle = 0;
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
    const busy = this.answering !== null || this.turnOpen;
    if (!busy && !this.sending) this.cancelAsked = false;
    this.stop.hidden = !busy;
    this.send.disabled = busy || this.sending === true;
    this.intro.hidden = this.messages.children.length > 0 || this.kind !== null || !this.loose.hidden;
    this._watchTurn();
  }

  // ---- one question, several answers ------------------------------------------------------------

  /**
   * Whether the question goes on after the last answer: it asked for tools (finish_reason "tool_calls"),
   * and none of its calls waits for a person, was stopped or expired — so a tool runs, or the next answer
   * is due. In the Maintenance and MCP conversations no model goes on.
   */
  _turnGoesOn() {
    if (this.kind !== null) return false;
    const el = this.messages.lastElementChild;
    if (!el || el.dataset.role !== "assistant" || !el.dataset.id) return false;
    const v = this._answerView(el.dataset.id);
    if (!v || v.state !== "complete" || v.finishReason !== "tool_calls") return false;
    const calls = Array.from(this.calls.values(), (view) => view.call).filter((c) => String(c.answer) === String(v.id));
    if (calls.some((c) => c.state === "running")) return true;
    if (calls.some((c) => c.state === "pending" || c.state === "expired")) return false;
    if (calls.some((c) => c.result && c.result.ok === false && c.result.error && c.result.error.code === "cancelled")) return false;
    return true;
  }

  /** Something happened to the question (an answer ended, a call changed): is it still under way? */
  _turnEvent() {
    this.turnIdle = 0;
    if (this.answering === null) this.turnOpen = this._turnGoesOn();
    this._renderComposer();
  }

  _endTurn() {
    if (this.turnTimer > 0) clearTimeout(this.turnTimer);
    this.turnTimer = 0;
    this.turnOpen = false;
    this.turnIdle = 0;
    this.cancelAsked = false;
  }

  /**
   * While the question is open with no answer streaming, ask the server now and then: a question can end
   * without a last event (stopped between a tool and the next answer, the last round's calls not run).
   * Two "answering: false" in a row settle it (one after Stop).
   */
  _watchTurn(now = false) {
    const needed = this.turnOpen && this.answering === null && this.current !== null && this.visible;
    if (!needed) {
      if (this.turnTimer > 0) {
        clearTimeout(this.turnTimer);
        this.turnTimer = 0;
      }
      this.turnIdle = 0;
      return;
    }
    if (this.turnTimer === -1) return; // a check is under way
    if (this.turnTimer > 0) {
      if (!now) return;
      clearTimeout(this.turnTimer);
    }
    const seq = this.openSeq;
    this.turnTimer = setTimeout(() => this._checkTurn(seq), now ? 0 : TURN_POLL_MS);
  }

  async _checkTurn(seq) {
    this.turnTimer = 0;
    if (seq !== this.openSeq || !this.current) return;
    this.turnTimer = -1;
    let conv = null;
    try {
      conv = await this._fetch(this.current.id);
    } catch {
      conv = null; // ask again on the next round
    }
    if (seq !== this.openSeq) return;
    this.turnTimer = 0;
    if (conv && this.turnOpen && this.answering === null) {
      if (conv.answering === false && !this._lastStreaming(conv)) {
        this.turnIdle += 1;
        if (this.turnIdle >= (this.cancelAsked ? 1 : 2)) {
          this.turnOpen = false;
          this.turnIdle = 0;
        }
      } else {
        this.turnIdle = 0;
      }
    }
    this._renderComposer();
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

  /**
   * The open conversation as the server has it now; null when none is open, the fetch failed or
   * another conversation was opened meanwhile (its reply must not land on the new one).
   */
  async _fetchOpen() {
    const c = this.current;
    if (!c) return null;
    const seq = this.openSeq;
    try {
      const conv = await this._fetch(c.id);
      return seq === this.openSeq ? conv : null;
    } catch {
      return null;
    }
  }

  async _resync() {
    const conv = await this._fetchOpen();
    if (!conv) return; // the next answer.end reloads again
    this._showConversation(conv);
    const last = this._lastStreaming(conv);
    if (last) this._answerView(last.id).partial = true;
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
    if (d.type === "tool.call") {
      // `answer: null`: an outside agent's call (MCP), shown after the messages.
      if (d.tool_call && typeof d.tool_call === "object") this._upsertCall({ answer: id ?? null, ...d.tool_call });
      return;
    }
    if (id === undefined || id === null) return;
    switch (d.type) {
      case "answer.start":
        this._startAnswer(id);
        this.turnIdle = 0;
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
        if (v.state !== "streaming") return; // a replay of an answer already shown whole
        const follow = this._nearEnd();
        v.text += d.text;
        v.schedule();
        if (follow) this._scrollToEnd(true);
        break;
      }
      case "answer.end": {
        const v = this._startAnswer(id);
        const live = v.state === "streaming"; // not a replay of an answer already shown whole
        v.apply({ ...d, state: ENDED.has(d.state) ? d.state : "failed" }); // the event has no content: the text is the deltas
        if (this.answering === id) this.answering = null;
        if (live) this._turnEvent(); // asked for tools: the question goes on
        else this._renderComposer();
        if (live && !v.partial) this._sayAnswer(v);
        if (v.partial) this._resync();
        this._loadList(); // the conversation moved to the top
        break;
      }
      default:
        break; // answer.cancel and anything newer: not for us
    }
  }

  // ---- tool calls ---------------------------------------------------------------------------------------

  /** Show (or bring up to date) a tool call, in the bubble of the answer that asked for it. */
  _upsertCall(call, { quiet = false } = {}) {
    if (!call || call.id === undefined || call.id === null) return null;
    let view = this.calls.get(call.id);
    const before = view ? view.call.state : null;
    if (view) {
      view.update(call);
    } else {
      view = new ToolCallView(call, (v, action) => this._decide(v, action));
      this.calls.set(call.id, view);
    }
    const follow = this._nearEnd();
    const host = this._callHost(view.call.answer);
    if (host) host.attachCall(view);
    else this._attachLoose(view);
    if (follow) this._scrollToEnd(true);
    if (!quiet && view.call.state !== before) this._turnEvent();
    return view;
  }

  /** A call of no answer (an outside agent's), in order among the others at the end of the conversation. */
  _attachLoose(view) {
    if (view.el.parentElement !== this.loose) {
      const next = Array.from(this.loose.children).find((el) => Number(el.dataset.toolCall) > Number(view.id));
      this.loose.insertBefore(view.el, next ?? null);
    }
    this.loose.hidden = false;
    this.intro.hidden = true;
  }

  /** The answer a tool call belongs to; a compact bubble when it is not on the page (should not happen). */
  _callHost(answerId) {
    if (answerId === undefined || answerId === null) return null;
    return this._answerView(answerId) ?? this._addView({ id: answerId, role: "assistant", content: "", state: "complete", finish_reason: "tool_calls" });
  }

  /** Approve or reject a pending call; the outcome comes back as tool.call events. */
  async _decide(view, action) {
    const c = this.current;
    if (!c || !view.pending || view.busy) return;
    const id = view.id;
    const seq = this.openSeq;
    const body = {};
    if (action === "reject") {
      const reason = view.reason.value.trim();
      if (reason) body.reason = reason;
    }
    view.busy = action;
    view.notice = "";
    view.render();
    const target = () => (seq === this.openSeq ? this.calls.get(id) ?? null : null); // a resync may have rebuilt it
    // Keep the focus in the card when its buttons disappear (decided) or are disabled.
    const keepFocus = (v) => {
      const a = document.activeElement;
      if (a && a !== document.body && document.contains(a) && !a.disabled && !a.closest("[hidden]")) return;
      (v.pending && !v.reject.disabled ? v.reject : v.el).focus();
    };
    try {
      const r = await api.post(`${BASE}/${encodeURIComponent(c.id)}/tool-calls/${encodeURIComponent(id)}/${action}`, body);
      const v = target();
      if (!v) return;
      v.busy = null;
      if (r && r.tool_call) this._upsertCall(r.tool_call);
      else v.render();
      keepFocus(this.calls.get(id) ?? v);
    } catch (err) {
      const v = target();
      if (!v) return;
      v.busy = null;
      if (err.status === 401) {
        v.render();
        return;
      }
      if (err.code === "already_decided") {
        v.notice = "Already decided (by someone else, or in another tab).";
        v.render();
        keepFocus(v);
        this._refreshCalls(); // its state comes from the server; the buttons go with the pending state
        return;
      }
      if (err.status === 403 && action === "approve") v.approveBlocked = true; // rejecting still works
      v.notice = describe(err, {
        forbidden: (e) => `Not allowed: ${sentence(e.message || "you may not decide this call")}`,
        not_found: "This tool call is not part of this conversation (any more).",
      });
      v.render();
      keepFocus(v);
    }
  }

  /** Take the stored state of the open conversation's tool calls (after a refused decision). */
  async _refreshCalls() {
    const conv = await this._fetchOpen();
    if (!conv) return; // the channel brings the state too
    for (const call of Array.isArray(conv.tool_calls) ? conv.tool_calls : []) this._upsertCall(call);
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
    if (this.answering !== null || this.turnOpen) {
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
      if (this.answering === answer.id) this.turnOpen = false; // a new question: the old one is over
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
    const seq = this.openSeq;
    this.stop.disabled = true;
    this.cancelAsked = true;
    try {
      const r = await api.post(`${BASE}/${encodeURIComponent(c.id)}/cancel`, {});
      if (seq !== this.openSeq) return;
      // The server had nothing it could stop (a tool approved by a person runs to its end on the server).
      if (r && r.cancelled === false && this.answering === null && this.turnOpen) {
        show(this.chatError, "Nothing was stopped: the server runs an approved tool to its end, then Jarvis answers.");
      }
      // Between two answers the stopped question may end without another event: ask where it stands.
      this._watchTurn(true);
    } catch (err) {
      if (seq === this.openSeq) this.cancelAsked = false;
      if (err.status !== 401) show(this.chatError, `Could not stop the answer. ${describe(err)}`);
    } finally {
      this.stop.disabled = false;
    }
  }

  // ---- voice ----------------------------------------------------------------------------------------

  _toggleReadAloud() {
    if (!speech || !this.aloud) return;
    this.readAloud = !this.readAloud;
    this.aloud.setAttribute("aria-pressed", String(this.readAloud));
    try {
      window.localStorage.setItem(READ_ALOUD_KEY, this.readAloud ? "1" : "0");
    } catch {
      /* private mode: for this page only */
    }
    if (!this.readAloud) speech.cancel();
  }

  /** With "Read aloud" on, an answer that has just ended with words is spoken (queued after the last). */
  _sayAnswer(v) {
    if (!speech || !this.readAloud || !this.visible || v.role !== "assistant") return;
    if (v.state !== "complete" && v.state !== "interrupted") return;
    const text = (v.body.textContent || "").trim();
    if (!text || v.toolsOnly) return;
    try {
      const u = new SpeechSynthesisUtterance(text);
      u.lang = document.documentElement.lang || "en";
      speech.speak(u);
    } catch {
      /* no voice after all */
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
      if (ev.error === "aborted" || ev.error === "no-speech") return; // stopped, or nothing was said
      const why = ev.error === "not-allowed" || ev.error === "service-not-allowed" ? "the microphone is not allowed" : ev.error || "unavailable";
      show(this.chatError, `Voice input stopped: ${why}.`);
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
