// What can be done to a container in a given state, and doing it: asks
// first, then POST /api/v1/containers/<name>/<action>. The server decides
// who may (viewers get 403); the buttons only reflect what we already know.

import * as api from "./api.js";
import { confirmAction } from "./dialog.js";
import { h } from "./dom.js";
import * as session from "./session.js";

const FOR_STATE = {
  running: ["stop", "restart", "pause"],
  paused: ["unpause", "stop"],
  restarting: ["stop"],
  created: ["start"],
  exited: ["start"],
  dead: ["start"],
};

const WORDS = {
  start: { label: "Start", text: "starts it again" },
  stop: { label: "Stop", text: "stops it (it can be started again)", danger: true },
  restart: { label: "Restart", text: "stops it and starts it again", danger: true },
  pause: { label: "Pause", text: "freezes its processes until it is unpaused" },
  unpause: { label: "Unpause", text: "lets its processes run again" },
};

const ERRORS = {
  conflict: (err) => `The engine refused in this state: ${err.message}`,
  not_found: "That container no longer exists.",
  docker_unavailable: (err) => `The container engine is unreachable: ${err.message}`,
  docker_error: (err) => `The container engine failed: ${err.message}`,
};

/** Known to be refused: viewers. API keys may or may not have the scope; the server says. */
export function mayChange() {
  const u = session.user();
  return !u || u.role !== "viewer";
}

/**
 * Keep `box` holding one button per action that fits the container's state
 * (hidden when none does).
 * @param {HTMLElement} box
 * @param {{name: string, state: string}} c
 */
export function syncActions(box, c) {
  const wanted = FOR_STATE[c.state] ?? [];
  box.hidden = wanted.length === 0;
  const allowed = mayChange();
  const have = [...box.children].map((b) => b.dataset.action).join(",");
  if (have !== wanted.join(",")) {
    box.replaceChildren(
      ...wanted.map((action) => {
        const b = h("button", {
          type: "button",
          class: `btn btn-small${WORDS[action].danger ? " btn-quiet-danger" : ""}`,
          dataset: { action },
          text: WORDS[action].label,
        });
        b.addEventListener("click", () => run(box.dataset.name, action));
        return b;
      }),
    );
  }
  box.dataset.name = c.name;
  for (const b of box.children) {
    b.disabled = !allowed;
    b.title = allowed ? `${WORDS[b.dataset.action].label} ${c.name}` : "Viewers cannot change containers";
    b.setAttribute("aria-label", `${WORDS[b.dataset.action].label} ${c.name}`);
  }
}

export function run(name, action) {
  const w = WORDS[action];
  return confirmAction({
    title: `${w.label} ${name}?`,
    text: `This ${w.text}.`,
    confirm: w.label,
    danger: Boolean(w.danger),
    errors: ERRORS,
    action: () => api.post(`/api/v1/containers/${encodeURIComponent(name)}/${action}`),
  });
}
