// Alerts as the dashboard knows them: the firing ones (from GET /api/v1/alerts,
// then kept current by the ordered `alerts` channel) and the ones resolved
// during this visit. Lives for the whole visit so the nav badge is right on
// every page.

import * as api from "./api.js";
import { ChannelStore } from "./channel-store.js";

const RESOLVED_KEEP = 50;

export class AlertStore extends ChannelStore {
  constructor() {
    super("alerts");
    this.reset();
  }

  reset() {
    this._stop();
    /** key -> alert */
    this.firing = new Map();
    this.resolved = [];
    this.error = null;
    this.loaded = false;
    this._emit();
  }

  attach(connection) {
    this._follow(connection, {
      onPublication: (data) => this.apply(data),
      // Continuity lost: the list from the API is the truth again.
      onReset: () => this.load(),
    });
    this.load();
  }

  async load() {
    try {
      const result = await api.get("/api/v1/alerts");
      const list = Array.isArray(result.alerts) ? result.alerts : [];
      this.firing = new Map(list.filter(valid).map((a) => [a.key, a]));
      this.error = null;
      this.loaded = true;
    } catch (err) {
      this.error = err.message;
    }
    this._emit();
  }

  apply(alert) {
    if (!valid(alert)) return;
    if (alert.state === "firing") {
      this.firing.set(alert.key, alert);
      this.resolved = this.resolved.filter((a) => a.key !== alert.key || a.id !== alert.id);
    } else if (alert.state === "resolved") {
      this.firing.delete(alert.key);
      this.resolved = [alert, ...this.resolved.filter((a) => a.id !== alert.id)].slice(0, RESOLVED_KEEP);
    }
    this._emit();
  }

  firingList() {
    return [...this.firing.values()].sort((a, b) => rank(a) - rank(b) || (b.fired_at ?? 0) - (a.fired_at ?? 0));
  }
}

function valid(a) {
  return a && typeof a === "object" && typeof a.key === "string";
}

const ORDER = { critical: 0, warning: 1, info: 2 };

function rank(a) {
  return ORDER[a.severity] ?? 3;
}
