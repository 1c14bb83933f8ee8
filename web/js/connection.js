// Nebula protocol v1 client (docs/protocol.md).
//
// - Commands carry incrementing integer ids; each returns a Promise settled by
//   the reply with the same id (rejected with a ProtocolError on `error`).
// - Reconnects with jittered exponential backoff (full jitter).
// - On reconnect every channel is resubscribed with `since: {epoch, offset}`
//   of the last publication seen; recovered publications are applied in
//   order and anything at or below the last seen offset of the same epoch is
//   dropped, so a handler never sees a publication twice.
//
// Events (EventTarget), all with `event.detail`:
//   "state"        {state: "connecting"|"live"|"reconnecting"|"offline",
//                   retryAt?: number (epoch ms), attempt?: number, reason?: string}
//   "unauthorized" {code?, reason?} – the `authorize` hook refused the
//                  credentials, or the server closed with 4003 (key revoked,
//                  session ended, role changed, user disabled); the client stops.

export class ProtocolError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "ProtocolError";
    this.code = code;
  }
}

export class ConnectionLost extends Error {
  constructor(message = "connection lost") {
    super(message);
    this.name = "ConnectionLost";
  }
}

const OPEN = 1;
const WITHDRAWN = 4003; // docs/protocol.md, close codes

/**
 * @param {object} options
 * @param {() => string} options.url            WebSocket URL (called per attempt)
 * @param {() => Promise<"ok"|"unauthorized"|"unreachable">} [options.authorize]
 *        checked before every attempt; "unauthorized" stops the client.
 * @param {number} [options.baseDelay=500]      backoff base, ms
 * @param {number} [options.maxDelay=15000]     backoff cap, ms
 * @param {number} [options.pingInterval=20000] client `ping` op period, ms (0 = off)
 * @param {number} [options.pingTimeout=10000]  no reply in this time → reconnect
 * @param {number} [options.commandTimeout=15000]
 */
export class Connection extends EventTarget {
  constructor(options) {
    super();
    this.opts = {
      baseDelay: 500,
      maxDelay: 15000,
      pingInterval: 20000,
      pingTimeout: 10000,
      commandTimeout: 15000,
      ...options,
    };
    this.ws = null;
    this.state = "idle";
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, timer}
    this.subs = new Map(); // channel -> Subscription record
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.stopped = true;
    this.stats = { publications: 0, duplicatesDropped: 0, connects: 0, resubscribes: 0 };

    this._onOnline = () => this._retryNow("network back");
    this._onOffline = () => {
      if (this.state !== "live") this._setState("offline", { reason: "browser offline" });
    };
    this._onVisible = () => {
      if (document.visibilityState === "visible" && this.state === "reconnecting") {
        this._retryNow("page visible");
      }
    };
  }

  // ---- lifecycle -----------------------------------------------------------

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this._onOnline);
    window.addEventListener("offline", this._onOffline);
    document.addEventListener("visibilitychange", this._onVisible);
    this._connect();
  }

  /** Close for good (no reconnect). Subscriptions are kept for a later start(). */
  stop(reason = "stopped") {
    this.stopped = true;
    window.removeEventListener("online", this._onOnline);
    window.removeEventListener("offline", this._onOffline);
    document.removeEventListener("visibilitychange", this._onVisible);
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this._teardownSocket(1000, reason);
    this._setState("offline", { reason });
  }

  // ---- commands ------------------------------------------------------------

  /** Send a command; resolves with `result`, rejects with ProtocolError/ConnectionLost. */
  request(op, params = {}) {
    if (!this.ws || this.ws.readyState !== OPEN) {
      return Promise.reject(new ConnectionLost("not connected"));
    }
    return this._send(this.ws, op, params);
  }

  ping() {
    return this.request("ping");
  }

  publish(channel, data) {
    return this.request("publish", { channel, data });
  }

  history(channel, limit) {
    return this.request("history", limit === undefined ? { channel } : { channel, limit });
  }

  /**
   * Subscribe to a channel for the life of this client (survives reconnects).
   * @param {string} channel
   * @param {object} handlers
   * @param {(data: any, pub: object) => void} handlers.onPublication
   *        called once per publication, in offset order
   * @param {(info: {epoch: string, offset: number}) => void} [handlers.onReset]
   *        called when continuity was lost (`recovered: false`); state derived
   *        from the stream should be reloaded (e.g. with `history`).
   * @param {(result: object) => void} [handlers.onSubscribed]
   * @param {(err: Error) => void} [handlers.onError]
   * @param {object} [options]
   * @param {{epoch: string, offset: number} | null} [options.since]
   *        start from this stream position instead of "now": the first subscribe
   *        asks for recovery from it, and the recovered publications (everything
   *        after `since.offset`) go to onPublication before the live ones; when the
   *        server cannot recover (`recovered: false`) onReset runs as after a gap.
   * @returns {() => void} unsubscribe function
   */
  subscribe(channel, handlers, { since = null } = {}) {
    if (this.subs.has(channel)) throw new Error(`already subscribed to ${channel}`);
    const resume =
      since && typeof since.epoch === "string" && since.epoch && Number.isFinite(since.offset) ? since : null;
    const sub = {
      channel,
      handlers,
      epoch: resume ? resume.epoch : null, // epoch of the last seen position
      offset: resume ? resume.offset : 0, // offset of the last publication seen (or subscribe result)
      active: false, // subscribed on the current socket
      buffer: null, // publications that arrived while the subscribe was in flight
    };
    this.subs.set(channel, sub);
    if (this.ws && this.ws.readyState === OPEN) this._subscribeOn(this.ws, sub);
    return () => this._unsubscribe(sub);
  }

  _unsubscribe(sub) {
    if (this.subs.get(sub.channel) !== sub) return;
    this.subs.delete(sub.channel);
    if (sub.active && this.ws && this.ws.readyState === OPEN) {
      this._send(this.ws, "unsubscribe", { channel: sub.channel }).catch(() => {});
    }
    sub.active = false;
  }

  // ---- internals -----------------------------------------------------------

  _setState(state, extra = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...extra } }));
  }

  async _connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      if (this.state !== "offline") this._setState("offline", { reason: "browser offline" });
    } else {
      this._setState(this.attempt === 0 ? "connecting" : "reconnecting", {
        attempt: this.attempt,
        retryAt: Date.now(),
      });
    }

    if (this.opts.authorize) {
      let verdict;
      try {
        verdict = await this.opts.authorize();
      } catch {
        verdict = "unreachable";
      }
      if (this.stopped) return;
      if (verdict === "unauthorized") {
        this.stop("unauthorized");
        this.dispatchEvent(new CustomEvent("unauthorized", { detail: {} }));
        return;
      }
      if (verdict !== "ok") {
        this._scheduleRetry("server unreachable");
        return;
      }
    }

    let ws;
    try {
      ws = new WebSocket(this.opts.url());
    } catch (err) {
      this._scheduleRetry(String(err && err.message ? err.message : err));
      return;
    }
    this.ws = ws;
    let opened = false;

    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      this.attempt = 0;
      this.stats.connects += 1;
      this._setState("live");
      for (const sub of this.subs.values()) this._subscribeOn(ws, sub);
      this._startPing(ws);
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this._lastRx = Date.now();
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // every frame should be JSON; ignore anything else
      }
      if (msg === null || typeof msg !== "object") return;
      this._dispatch(msg);
    };
    ws.onerror = () => {
      /* onclose follows; nothing useful here (browsers hide the reason) */
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this._teardownSocket();
      if (this.stopped) return;
      if (ev.code === WITHDRAWN) {
        // Retrying cannot help: the key was revoked or the session ended.
        this.stop(ev.reason || "credentials withdrawn");
        this.dispatchEvent(new CustomEvent("unauthorized", { detail: { code: ev.code, reason: ev.reason } }));
        return;
      }
      const why = opened
        ? `closed ${ev.code}${ev.reason ? ` (${ev.reason})` : ""}`
        : "handshake failed";
      this._scheduleRetry(why);
    };
  }

  _scheduleRetry(reason) {
    if (this.stopped) return;
    const browserOffline = typeof navigator !== "undefined" && navigator.onLine === false;
    if (browserOffline && this.state !== "offline") {
      // The "online" event triggers an immediate retry; until then keep
      // retrying on the normal schedule in case navigator.onLine is wrong.
      this._setState("offline", { reason: "browser offline" });
    }
    const ceiling = Math.min(this.opts.maxDelay, this.opts.baseDelay * 2 ** this.attempt);
    const delay = Math.max(100, Math.random() * ceiling); // full jitter
    this.attempt += 1;
    const retryAt = Date.now() + delay;
    if (this.state !== "offline") {
      this._setState("reconnecting", { retryAt, attempt: this.attempt, reason });
    }
    this.retryTimer = setTimeout(() => this._connect(), delay);
  }

  _retryNow(reason) {
    if (this.stopped) return;
    if (this.state === "live" || this.state === "connecting") return;
    if (this.ws && this.ws.readyState === WebSocket.CONNECTING) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.attempt = Math.min(this.attempt, 1);
    this._connect();
  }

  _teardownSocket(code, reason) {
    const ws = this.ws;
    this.ws = null;
    clearInterval(this.pingTimer);
    this.pingTimer = null;
    for (const sub of this.subs.values()) {
      sub.active = false;
      sub.buffer = null;
    }
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectionLost());
      this.pending.delete(id);
    }
    if (ws && code !== undefined && ws.readyState <= OPEN) {
      ws.onclose = null;
      try {
        ws.close(code, reason);
      } catch {
        /* already closing */
      }
    }
  }

  /** Force a reconnect (used by the liveness check and by tests). */
  dropConnection(reason = "dropped") {
    const ws = this.ws;
    if (!ws) return;
    this._teardownSocket(4000, reason.slice(0, 100));
    if (!this.stopped) this._scheduleRetry(reason);
  }

  _send(ws, op, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new ProtocolError("timeout", `${op} timed out`));
      }, this.opts.commandTimeout);
      this.pending.set(id, { resolve, reject, timer });
      try {
        ws.send(JSON.stringify({ id, op, ...params }));
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new ConnectionLost(String(err)));
      }
    });
  }

  _dispatch(msg) {
    // Reply: has `id` (possibly null) and result/error.
    if ("id" in msg && ("result" in msg || "error" in msg)) {
      const p = msg.id === null ? undefined : this.pending.get(msg.id);
      if (!p) {
        if (msg.error) console.warn("nebula: unmatched error reply", msg.error);
        return;
      }
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new ProtocolError(msg.error.code, msg.error.message));
      else p.resolve(msg.result ?? {});
      return;
    }
    // The server ended a subscription (docs/protocol.md, "unsubscribed"): publications were lost
    // for this connection. Subscribe again with `since`; the reply says `recovered: false` and the
    // handler's onReset runs, exactly as after a reconnect that could not recover.
    if (typeof msg.channel === "string" && msg.unsubscribed && typeof msg.unsubscribed === "object") {
      const sub = this.subs.get(msg.channel);
      if (!sub || !this.ws || this.ws.readyState !== OPEN) return;
      this.stats.resubscribes += 1;
      sub.active = false;
      this._subscribeOn(this.ws, sub);
      return;
    }
    // Publication: has `channel` and `offset`, no `id`.
    if (typeof msg.channel === "string" && typeof msg.offset === "number") {
      const sub = this.subs.get(msg.channel);
      if (!sub) return;
      if (sub.buffer) sub.buffer.push(msg); // subscribe reply not handled yet
      else if (sub.active) this._deliver(sub, msg);
    }
  }

  async _subscribeOn(ws, sub) {
    const params = { channel: sub.channel };
    const since = sub.epoch !== null ? { epoch: sub.epoch, offset: sub.offset } : null;
    if (since) params.since = since;
    sub.buffer = [];
    let result;
    try {
      result = await this._send(ws, "subscribe", params);
    } catch (err) {
      if (this.ws !== ws || this.subs.get(sub.channel) !== sub) return;
      sub.buffer = null;
      if (err instanceof ProtocolError && err.code === "already_subscribed") {
        sub.active = true;
        return;
      }
      if (sub.handlers.onError) sub.handlers.onError(err);
      else console.error(`nebula: subscribe ${sub.channel} failed`, err);
      return;
    }
    if (this.ws !== ws || this.subs.get(sub.channel) !== sub) return;

    const buffered = sub.buffer || [];
    sub.buffer = null;
    sub.active = true;

    const continuous = since !== null && result.recovered === true && result.epoch === since.epoch;
    if (!continuous) {
      // Fresh subscription, or continuity lost: adopt the server's position.
      const lost = since !== null;
      sub.epoch = result.epoch ?? null;
      sub.offset = typeof result.offset === "number" ? result.offset : 0;
      if (lost && sub.handlers.onReset) {
        sub.handlers.onReset({ epoch: sub.epoch, offset: sub.offset });
      }
      // Latest-value channels hand over the newest value with the result.
      const pub = result.publication;
      if (pub && typeof pub.offset === "number") {
        sub.offset = pub.offset - 1; // make sure it is delivered
        this._deliver(sub, pub);
      }
    } else {
      sub.epoch = result.epoch;
      for (const pub of result.publications || []) this._deliver(sub, pub);
      // The latest-value snapshot may be included even on recovery.
      if (result.publication) this._deliver(sub, result.publication);
    }
    if (sub.handlers.onSubscribed) sub.handlers.onSubscribed(result);
    for (const pub of buffered) this._deliver(sub, pub);
  }

  _deliver(sub, pub) {
    if (typeof pub.offset !== "number") return;
    if (pub.offset <= sub.offset) {
      this.stats.duplicatesDropped += 1;
      return; // already seen in this epoch
    }
    sub.offset = pub.offset;
    this.stats.publications += 1;
    try {
      sub.handlers.onPublication(pub.data, pub);
    } catch (err) {
      console.error(`nebula: handler for ${sub.channel} threw`, err);
    }
  }

  _startPing(ws) {
    const { pingInterval, pingTimeout } = this.opts;
    if (!pingInterval) return;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws) return;
      const timer = setTimeout(() => {
        if (this.ws === ws) this.dropConnection("ping timeout");
      }, pingTimeout);
      this._send(ws, "ping", {})
        .then(() => clearTimeout(timer))
        .catch(() => clearTimeout(timer));
    }, pingInterval);
  }
}
