// How a container's state and health read at a glance: the badge colours,
// and filling the two badges the same way on the list and the detail page.

import { setText } from "./dom.js";

export function stateTone(state) {
  if (state === "running") return "ok";
  if (state === "paused" || state === "restarting" || state === "created") return "warn";
  if (state === "dead" || state === "removing") return "crit";
  return "muted";
}

export function healthTone(health) {
  return health === "healthy" ? "ok" : health === "unhealthy" ? "crit" : "warn";
}

/**
 * Fill a container's state badge, and its health badge: hidden when the
 * container has no health check.
 * @param {HTMLElement} stateBadge
 * @param {HTMLElement} healthBadge
 * @param {{state?: string, health?: string}} c
 */
export function showState(stateBadge, healthBadge, c) {
  setText(stateBadge, c.state ?? "unknown");
  stateBadge.dataset.tone = stateTone(c.state);
  healthBadge.hidden = !c.health;
  if (c.health) {
    setText(healthBadge, c.health);
    healthBadge.dataset.tone = healthTone(c.health);
  }
}
