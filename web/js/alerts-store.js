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
    let subscribed = false;
    this._follow(connection, {
      onPublication: (data) => this.apply(data),
      // Continuity lost: the list from the API is the truth again.
      onReset: () => this.load(),
      // Read the list again once the subscription is live: an alert that fired
      // between the first read and the subscription is in one or the other.
      onSubscribed: () => {
        if (!subscribed) this.load();
        subscribed = true;
      },
    });
    this.load();
  }

  async load() {
    const seq = (this._loadSeq = (this._loadSeq ?? 0) + 1);
    // Publications that arrive while the list is being read are applied again
    // on top of it, so the read cannot undo them.
    this._seenWhileLoading = [];
    try {
      const result = await api.get("/api/v1/alerts");
      if (seq !== this._loadSeq) return; // a newer read is under way
      const list = Array.isArray(result.alerts) ? result.alerts : [];
      this.firing = new Map(list.filter(valid).map((a) => [a.key, a]));
      for (const alert of this._seenWhileLoading) this.apply(alert, { replay: true });
      this.error = null;
      this.loaded = true;
    } catch (err) {
      if (seq !== this._loadSeq) return;
      this.error = err.message;
    }
    this._seenWhileLoading = null;
    this._emit();
  }

  apply(alert, { replay = false } = {}) {
    if (!valid(alert)) return;
    if (!replay && this._seenWhileLoading) this._seenWhileLoading.push(alert);
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
