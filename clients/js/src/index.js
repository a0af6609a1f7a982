// @wedsync/realtime: a client for the WedSync realtime gateway (/ws/realtime/).
//
// It keeps one WebSocket, answers the server's pings, unpacks batches, delivers each
// message once and in seq order, resumes every topic with `since` (and its epoch) after
// any reconnect, tells the app when a gap cannot be replayed (onGap: refetch), and
// reconnects with full-jitter backoff inside the server's hint. No dependencies: pass a
// WebSocket implementation where there is no global one (Node < 22: the `ws` package).

import { Backoff, closeAction, restartHint } from "./backoff.js";

export { Backoff, closeAction, restartHint } from "./backoff.js";

const WATCHDOG_GRACE_MS = 10000; // silence allowed beyond the server's ping interval
const HELLO_WAIT_MS = 3000; // a server without hello: connected once open this long
const CONNECT_TIMEOUT_MS = 15000;
const STORAGE_PREFIX = "wedsync-realtime:";

function isSeq(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

/** One topic the app follows. */
class Subscription {
  constructor(client, topic, handlers) {
    this._client = client;
    this.topic = topic;
    this._handlers = handlers || {};
    this._seq = null; // last seq delivered (or the position resumed from)
    this._epoch = null;
    this._replayUntil = 0; // seqs up to this arrived from history, not live
    this._restored = false;
    this._awaiting = false; // a subscribe was sent and its `subscribed` not yet seen
    this.active = true;
  }

  /** Where this subscription stands: {seq, epoch} (null before the server said). */
  get position() {
    return { seq: this._seq, epoch: this._epoch };
  }

  unsubscribe() {
    if (!this.active) return;
    this.active = false;
    this._client._drop(this);
  }
}

export class RealtimeClient {
  /**
   * @param {object} options
   * @param {string} options.url  ws(s)://host/ws/realtime/
   * @param {string} [options.token]  the supplier's gateway token
   * @param {Function} [options.getToken]  called once after a 4401 for a fresh token
   * @param {Function} [options.WebSocket]  a WebSocket class (defaults to the global one)
   * @param {object} [options.storage]  {getItem, setItem, removeItem} (sync or async):
   *   positions survive an app restart
   * @param {object} [options.backoff]  {minMs, maxMs}: pins the window (else the server's)
   */
  constructor(options = {}) {
    if (!options.url || typeof options.url !== "string") {
      throw new TypeError("RealtimeClient needs a url (ws://host/ws/realtime/)");
    }
    this.url = options.url;
    this.token = options.token || "";
    this.getToken = typeof options.getToken === "function" ? options.getToken : null;
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    if (typeof this.WebSocket !== "function") {
      throw new TypeError("no WebSocket here: pass one, e.g. new RealtimeClient({WebSocket})");
    }
    this.storage = options.storage || null;
    this.storagePrefix = options.storagePrefix || STORAGE_PREFIX;
    this._pinned = options.backoff || null;
    this.backoff = new Backoff({ ...(options.backoff || {}), random: options.random });
    this.watchdogGraceMs = options.watchdogGraceMs ?? WATCHDOG_GRACE_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.state = "disconnected";
    this.hello = null;
    this.lastClose = null; // {code, reason} of the last close
    this.attempts = 0; // connection attempts made (for tests and dashboards)
    this._subs = new Map();
    this._listeners = new Map();
    this._ws = null;
    this._timer = null;
    this._watchdog = null;
    this._helloTimer = null;
    this._refreshed = false;
    this._wanted = false;
    this._offline = false;
    this._waiters = [];
    this._env = this._watchEnvironment();
  }

  // --- events ---------------------------------------------------------------------
  /** client.on("state" | "error" | "hello" | "close", fn) -> a function that removes fn. */
  on(event, fn) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(fn);
    return () => this._listeners.get(event).delete(fn);
  }

  _emit(event, value) {
    for (const fn of this._listeners.get(event) || []) {
      this._safely(fn, value);
    }
  }

  /** App callbacks never break the client: their errors become "error" events. */
  _safely(fn, ...args) {
    try {
      return fn(...args);
    } catch (err) {
      if (fn !== this._reportError) this._reportError(err);
    }
    return undefined;
  }

  _reportError(err) {
    const fns = this._listeners.get("error");
    if (!fns || !fns.size) return;
    for (const fn of fns) {
      try {
        fn(err);
      } catch (_) {
        // an error handler that throws has nobody left to tell
      }
    }
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", state);
    if (state === "connected" || state === "closed") {
      const waiters = this._waiters;
      this._waiters = [];
      for (const w of waiters) state === "connected" ? w.resolve() : w.reject(this._closedError());
    }
  }

  _closedError() {
    const code = this.lastClose ? this.lastClose.code : undefined;
    const err = new Error(code === 4401 ? "token refused (4401)" : "client closed");
    err.code = code;
    return err;
  }

  // --- lifecycle ------------------------------------------------------------------
  /** Open the connection; resolves once connected (rejects if it ends closed). */
  connect() {
    if (this.state === "connected") return Promise.resolve();
    if (this.state === "closed") {
      this.state = "disconnected";
      this._refreshed = false;
    }
    const promise = new Promise((resolve, reject) => this._waiters.push({ resolve, reject }));
    this._wanted = true;
    if (!this._env) this._env = this._watchEnvironment();
    if (!this._ws && !this._timer) this._open();
    return promise;
  }

  /** Close for good: state "closed", no reconnect. */
  close() {
    this._wanted = false;
    clearTimeout(this._timer);
    this._timer = null;
    this._stopTimers();
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      this._detach(ws);
      try {
        ws.close(1000);
      } catch (_) {
        // already closing
      }
    }
    this._setState("closed");
    if (this._env) this._env();
    this._env = null;
  }

  // --- subscriptions --------------------------------------------------------------
  /** Follow a topic: onMessage(data, {topic, seq, ts, replayed}), onGap(info), onError(frame).
   * options.since / options.epoch resume from a known position. */
  subscribe(topic, handlers = {}) {
    if (typeof topic !== "string" || !topic) throw new TypeError("topic must be a string");
    const existing = this._subs.get(topic);
    if (existing) existing.active = false;
    const sub = new Subscription(this, topic, handlers);
    if (isSeq(handlers.since)) {
      sub._seq = handlers.since;
      sub._epoch = typeof handlers.epoch === "string" ? handlers.epoch : null;
      sub._restored = true;
    }
    this._subs.set(topic, sub);
    if (this.state === "connected") {
      this._restore([sub]).then(() => this._sendSubscribe([sub]));
    }
    return sub;
  }

  _drop(sub) {
    if (this._subs.get(sub.topic) !== sub) return;
    this._subs.delete(sub.topic);
    this._send({ op: "unsubscribe", topics: [sub.topic] });
    if (this.storage) {
      this._safely(() => this.storage.removeItem && this.storage.removeItem(this.storagePrefix + sub.topic));
    }
  }

  _sendSubscribe(subs) {
    subs = subs.filter((s) => s.active && this._subs.get(s.topic) === s);
    if (!subs.length) return;
    const frame = { op: "subscribe", topics: subs.map((s) => s.topic) };
    const since = {};
    const epoch = {};
    for (const s of subs) {
      s._awaiting = true;
      if (isSeq(s._seq)) {
        since[s.topic] = s._seq;
        if (s._epoch) epoch[s.topic] = s._epoch;
      }
    }
    if (Object.keys(since).length) frame.since = since;
    if (Object.keys(epoch).length) frame.epoch = epoch;
    this._send(frame);
  }

  /** Positions the storage kept from an earlier run (for topics with none in memory). */
  async _restore(subs) {
    if (!this.storage) return;
    for (const s of subs) {
      if (s._restored || isSeq(s._seq)) continue;
      s._restored = true;
      try {
        const raw = await this.storage.getItem(this.storagePrefix + s.topic);
        const saved = raw ? JSON.parse(raw) : null;
        if (saved && isSeq(saved.seq) && !isSeq(s._seq)) {
          s._seq = saved.seq;
          s._epoch = typeof saved.epoch === "string" ? saved.epoch : null;
        }
      } catch (err) {
        this._reportError(err);
      }
    }
  }

  _persist(sub) {
    if (!this.storage || !isSeq(sub._seq)) return;
    const value = JSON.stringify({ seq: sub._seq, epoch: sub._epoch });
    try {
      const done = this.storage.setItem(this.storagePrefix + sub.topic, value);
      if (done && typeof done.catch === "function") done.catch((err) => this._reportError(err));
    } catch (err) {
      this._reportError(err);
    }
  }

  // --- the socket -----------------------------------------------------------------
  _socketUrl() {
    const sep = this.url.includes("?") ? "&" : "?";
    return this.token ? `${this.url}${sep}token=${encodeURIComponent(this.token)}` : this.url;
  }

  _open() {
    this._timer = null;
    if (!this._wanted || this._ws) return;
    if (this._offline) {
      this._setState("disconnected");
      return; // the "online" event brings us back
    }
    this._setState("connecting");
    this.attempts += 1;
    let ws;
    try {
      ws = new this.WebSocket(this._socketUrl());
    } catch (err) {
      this._reportError(err);
      this._retry(this.backoff.next());
      return;
    }
    this._ws = ws;
    this.hello = null;
    this._arm(this.connectTimeoutMs);
    ws.onopen = () => {
      if (this._ws !== ws) return;
      this._helloTimer = setTimeout(() => this._ready(ws), HELLO_WAIT_MS);
    };
    ws.onmessage = (ev) => {
      if (this._ws !== ws) return;
      this._frame(ws, ev.data);
    };
    ws.onerror = () => {}; // the close event follows and carries what we need
    ws.onclose = (ev) => {
      if (this._ws !== ws) return;
      this._closed(ev && ev.code, ev && ev.reason);
    };
  }

  _detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {};
  }

  _send(frame) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) return false;
    try {
      ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
      return true;
    } catch (err) {
      this._reportError(err);
      return false;
    }
  }

  /** The watchdog: no frame for this long means the socket is dead (a silent NAT drop). */
  _arm(ms) {
    clearTimeout(this._watchdog);
    const ws = this._ws;
    this._watchdog = setTimeout(() => {
      if (this._ws === ws) this._abandon(4408, "watchdog: no frame from the server");
    }, ms);
  }

  _stopTimers() {
    clearTimeout(this._watchdog);
    clearTimeout(this._helloTimer);
    this._watchdog = this._helloTimer = null;
  }

  /** Drop a socket we no longer trust and go through the usual close path. */
  _abandon(code, reason) {
    const ws = this._ws;
    if (!ws) return;
    this._detach(ws);
    try {
      ws.close(1000);
    } catch (_) {
      // it was already dead
    }
    this._closed(code, reason);
  }

  _heartbeatMs() {
    const hb = this.hello && Number(this.hello.heartbeat_s);
    return (Number.isFinite(hb) && hb > 0 ? Math.min(hb, 600) * 1000 : 25000) + this.watchdogGraceMs;
  }

  async _ready(ws) {
    if (this._ws !== ws || this.state === "connected") return;
    clearTimeout(this._helloTimer);
    this._arm(this._heartbeatMs());
    const subs = [...this._subs.values()];
    await this._restore(subs);
    if (this._ws !== ws) return;
    this._setState("connected");
    this._sendSubscribe(subs);
  }

  _closed(code, reason) {
    this._ws = null;
    this._stopTimers();
    for (const sub of this._subs.values()) sub._awaiting = false;
    this.lastClose = { code, reason };
    this._emit("close", this.lastClose);
    if (!this._wanted) {
      this._setState("closed");
      return;
    }
    const action = closeAction(code);
    if (action === "stop") {
      if (code === 4401 && this.getToken && !this._refreshed) {
        this._refreshed = true; // once: a token that fails again is not retried
        this._setState("disconnected");
        Promise.resolve()
          .then(() => this.getToken())
          .then((token) => {
            if (typeof token !== "string" || !token || !this._wanted) throw new Error("no token");
            this.token = token;
            this._open();
          })
          .catch((err) => {
            this._reportError(err);
            this._wanted = false;
            this._setState("closed");
          });
        return;
      }
      this._emit("error", Object.assign(new Error(`closed by the server (${code})`), { code }));
      this._wanted = false;
      this._setState("closed");
      return;
    }
    let delay;
    if (action === "slow") delay = this.backoff.longest();
    else if (action === "restart" && this.hello) {
      // A connection that was up is told the server restarts: nobody's failure, come back
      // inside its hint. Refused with 1012 before any hello (the old process still
      // draining), it is an ordinary failed attempt: back off, or we would loop on it.
      const hint = restartHint(reason);
      this.backoff.reset();
      delay = hint ? this.backoff.within(hint[0], hint[1]) : this.backoff.next();
    } else if (action === "restart") {
      const hint = restartHint(reason);
      delay = Math.max(this.backoff.next(), hint ? this.backoff.within(hint[0], hint[1]) : 0);
    } else delay = this.backoff.next();
    this._retry(delay);
  }

  _retry(delay) {
    this._setState("disconnected");
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._open(), delay);
  }

  // --- frames ---------------------------------------------------------------------
  _frame(ws, raw) {
    this._arm(this.state === "connected" || this.hello ? this._heartbeatMs() : this.connectTimeoutMs);
    if (typeof raw !== "string") {
      if (raw && typeof raw.toString === "function" && !(raw instanceof ArrayBuffer)) raw = raw.toString();
      else return;
    }
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch (_) {
      return this._reportError(new Error("frame is not JSON"));
    }
    if (!frame || typeof frame !== "object" || typeof frame.op !== "string") return;
    switch (frame.op) {
      case "ping":
        this._send('{"op":"pong"}');
        return;
      case "hello":
        if (this.hello) return; // once per connection
        this.hello = frame;
        if (!this._pinned) this.backoff.hint(frame.reconnect);
        this.backoff.reset();
        this._refreshed = false;
        this._emit("hello", frame);
        this._ready(ws);
        return;
      case "message":
        return this._message(frame);
      case "batch":
        if (Array.isArray(frame.messages)) {
          for (const m of frame.messages) {
            if (m && typeof m === "object" && m.op === "message") this._message(m);
          }
        }
        return;
      case "subscribed":
        return this._subscribed(frame);
      case "error":
        return this._error(frame);
      default:
        return; // pong, unsubscribed, and ops a newer server may add
    }
  }

  _message(m) {
    const sub = typeof m.topic === "string" ? this._subs.get(m.topic) : undefined;
    if (!sub || !isSeq(m.seq)) return;
    if (isSeq(sub._seq)) {
      if (m.seq <= sub._seq) return; // already delivered: the replay seam, a relay
      if (m.seq > sub._seq + 1) {
        // The server fills holes itself; one here means the stream skipped (tell the app).
        this._gap(sub, { reason: "hole", since: sub._seq, current: m.seq - 1 });
      }
    }
    sub._seq = m.seq;
    const meta = { topic: m.topic, seq: m.seq, ts: m.ts, replayed: m.seq <= sub._replayUntil };
    if (sub._handlers.onMessage) this._safely(sub._handlers.onMessage, m.data, meta);
    this._persist(sub);
  }

  _subscribed(frame) {
    if (!Array.isArray(frame.topics)) return;
    const positions = frame.positions && typeof frame.positions === "object" ? frame.positions : {};
    for (const topic of frame.topics) {
      const sub = this._subs.get(topic);
      const pos = positions[topic];
      if (!sub || !sub._awaiting) continue; // only the answer to our subscribe moves a position
      sub._awaiting = false;
      if (!pos || typeof pos !== "object" || !isSeq(pos.seq)) continue;
      const epoch = typeof pos.epoch === "string" ? pos.epoch : null;
      if (pos.recovered === false) {
        this._gap(sub, { reason: "not_recovered", since: sub._seq, epoch: sub._epoch, current: pos.seq });
        sub._seq = pos.seq;
      } else if (pos.recovered === true) {
        sub._replayUntil = pos.seq; // what follows up to here is replayed history
      } else if (!isSeq(sub._seq) || pos.seq > sub._seq) {
        sub._seq = pos.seq; // live from here
      }
      sub._epoch = epoch;
      this._persist(sub);
    }
  }

  _error(frame) {
    if (frame.code === "replay_gap" && typeof frame.topic === "string") {
      const sub = this._subs.get(frame.topic);
      if (sub && isSeq(frame.current) && (!isSeq(sub._seq) || frame.current > sub._seq)) {
        this._gap(sub, { reason: "replay_gap", since: frame.since, oldest: frame.oldest, current: frame.current });
        sub._seq = frame.current;
        this._persist(sub);
      }
      return;
    }
    if ((frame.code === "forbidden" || frame.code === "revoked") && Array.isArray(frame.topics)) {
      for (const topic of frame.topics) {
        const sub = this._subs.get(topic);
        if (!sub) continue;
        this._subs.delete(topic); // not ours (any more): never resubscribed
        sub.active = false;
        if (sub._handlers.onError) this._safely(sub._handlers.onError, frame);
      }
    }
    this._emit("error", Object.assign(new Error(String(frame.message || frame.code)), { frame }));
  }

  _gap(sub, info) {
    if (sub._handlers.onGap) this._safely(sub._handlers.onGap, { topic: sub.topic, ...info });
  }

  // --- browsers: network and visibility -------------------------------------------
  _watchEnvironment() {
    const g = globalThis;
    if (typeof g.addEventListener !== "function" || typeof g.removeEventListener !== "function") {
      return null;
    }
    const doc = g.document;
    const soon = () => {
      if (!this._wanted || this._ws) return;
      clearTimeout(this._timer);
      // Every tab and app comes back when the network does: a small jitter, not a stampede.
      this._timer = setTimeout(() => this._open(), this.backoff.within(0, this.backoff.minMs));
    };
    const online = () => {
      this._offline = false;
      this.backoff.reset();
      soon();
    };
    const offline = () => {
      this._offline = true;
      if (this._ws) this._abandon(1006, "offline");
    };
    const visible = () => {
      if (!doc || doc.visibilityState !== "visible") return;
      if (this._ws && this.state === "connected") {
        // Back from the background: a socket the OS froze may be dead without a close.
        this._send('{"op":"ping"}');
        this._arm(Math.min(this._heartbeatMs(), 5000));
      } else soon();
    };
    g.addEventListener("online", online);
    g.addEventListener("offline", offline);
    if (doc && typeof doc.addEventListener === "function") doc.addEventListener("visibilitychange", visible);
    if (g.navigator && g.navigator.onLine === false) this._offline = true;
    return () => {
      g.removeEventListener("online", online);
      g.removeEventListener("offline", offline);
      if (doc && typeof doc.removeEventListener === "function") doc.removeEventListener("visibilitychange", visible);
    };
  }
}

export default RealtimeClient;
