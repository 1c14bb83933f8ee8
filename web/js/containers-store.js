// The latest `telemetry.containers` snapshot plus a short per-container
// history of CPU and memory, kept for the whole signed-in visit so the
// sparklines are already drawn when someone comes back to the page.
// Prefilled once per container from /api/v1/history, so a fresh page load
// does not start from an empty line.

import * as api from "./api.js";
import { ChannelStore } from "./channel-store.js";

const CAPACITY = 30;

const num = (v) => typeof v === "number" && Number.isFinite(v);

export class ContainerStore extends ChannelStore {
  constructor() {
    super("telemetry.containers");
    this.reset();
  }

  reset() {
    this._stop();
    this.snapshot = null;
    this.error = null;
    /** name -> {cpu: [{t, v}], mem: [{t, v}]} */
    this.series = new Map();
    this.prefilled = new Set();
    this._emit();
  }

  /** Follow the channel on this connection (one store per signed-in visit). */
  attach(connection) {
    this._follow(connection, { onPublication: (data) => this.update(data) });
  }

  update(snapshot) {
    if (!snapshot || typeof snapshot !== "object") return;
    this.snapshot = snapshot;
    this.error = null;
    const t = num(snapshot.collected_at) ? snapshot.collected_at : Date.now();
    for (const c of this.containers()) {
      const s = this._series(c.name);
      // Engine events republish the list with the last sample's numbers: add a point only for a new sample.
      if (num(c.cpu_percent)) add(s.cpu, t, c.cpu_percent);
      if (num(c.memory_bytes)) add(s.mem, t, c.memory_bytes);
      this._prefill(c.name);
    }
    this._emit();
  }

  containers() {
    const list = this.snapshot && Array.isArray(this.snapshot.containers) ? this.snapshot.containers : [];
    return list.filter((c) => c && typeof c.name === "string");
  }

  byName(name) {
    return this.containers().find((c) => c.name === name || c.id === name) ?? null;
  }

  /** {status, error, ...} of the engine, or null before the first snapshot. */
  engine() {
    return this.snapshot && this.snapshot.engine ? this.snapshot.engine : null;
  }

  samples(name) {
    return this._series(name);
  }

  _series(name) {
    let s = this.series.get(name);
    if (!s) {
      s = { cpu: [], mem: [] };
      this.series.set(name, s);
    }
    return s;
  }

  async _prefill(name) {
    if (this.prefilled.has(name) || api.mode() === "none") return;
    this.prefilled.add(name);
    const s = this._series(name);
    const from = String(Date.now() - 10 * 60 * 1000);
    const load = async (metric, into) => {
      const query = new URLSearchParams({ kind: "container", subject: name, metric, resolution: "raw", from });
      const result = await api.get("/api/v1/history", { query });
      const points = Array.isArray(result.points) ? result.points : [];
      const first = into.length ? into[0].t : Infinity;
      const older = points.filter((p) => num(p.t) && num(p.avg) && p.t < first).map((p) => ({ t: p.t, v: p.avg }));
      into.unshift(...older);
      if (into.length > CAPACITY) into.splice(0, into.length - CAPACITY);
    };
    try {
      await Promise.all([load("cpu_percent", s.cpu), load("memory_bytes", s.mem)]);
      this._emit();
    } catch {
      // History is a nicety: the live samples fill the line anyway.
    }
  }
}

function add(list, t, v) {
  if (list.length && list[list.length - 1].t >= t) return;
  list.push({ t, v });
  if (list.length > CAPACITY) list.shift();
}
