// The reconnect core shared by every browser-side socket of WedSync (this SDK and the ops
// dashboards): full-jitter exponential backoff inside the server's hint, and what each
// close code means for the next attempt. One implementation of reconnect, not two.

export const DEFAULT_MIN_MS = 500;
export const DEFAULT_MAX_MS = 20000;
const LONGEST_MS = 5 * 60 * 1000; // a hint above this is a typo, not a policy
const MAX_ATTEMPT = 30;

/** Full-jitter exponential backoff (a random delay in [0, min(max, min * 2^attempt)]):
 * clients that lost the server together spread their attempts instead of coming back in
 * waves. */
export class Backoff {
  constructor({ minMs = DEFAULT_MIN_MS, maxMs = DEFAULT_MAX_MS, random = Math.random } = {}) {
    this.minMs = minMs;
    this.maxMs = Math.max(minMs, maxMs);
    this.random = random;
    this.attempt = 0;
  }

  /** Adopt the server's hint ({min_ms, max_ms}); anything malformed is ignored. */
  hint(reconnect) {
    if (!reconnect || typeof reconnect !== "object") return;
    const lo = Number(reconnect.min_ms);
    const hi = Number(reconnect.max_ms);
    if (Number.isFinite(lo) && lo > 0 && lo <= LONGEST_MS) this.minMs = lo;
    if (Number.isFinite(hi) && hi > 0 && hi <= LONGEST_MS) this.maxMs = hi;
    this.maxMs = Math.max(this.minMs, this.maxMs);
  }

  /** The delay before the next attempt (and count it). */
  next() {
    const cap = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, MAX_ATTEMPT);
    return Math.round(this.random() * cap);
  }

  /** The server said "not now" (over quota, overloaded): wait near the ceiling. */
  longest() {
    this.attempt = MAX_ATTEMPT;
    return Math.round(this.maxMs * (0.5 + 0.5 * this.random()));
  }

  /** A random delay inside [loMs, hiMs] (the restart hint of a 1012 close). */
  within(loMs, hiMs) {
    const lo = Math.max(0, Math.min(loMs, LONGEST_MS));
    const hi = Math.max(lo, Math.min(hiMs, LONGEST_MS));
    return Math.round(lo + this.random() * (hi - lo));
  }

  reset() {
    this.attempt = 0;
  }
}

/** What a close code means for the next attempt:
 * "stop" (the app must act: bad credentials), "slow" (back off to the ceiling),
 * "restart" (the server is restarting: come back inside its hint), "retry" (back off). */
export function closeAction(code) {
  if (code === 4401 || code === 4403) return "stop";
  if (code === 4429 || code === 1013 || code === 1008) return "slow";
  if (code === 1012) return "restart";
  return "retry";
}

/** The reconnect window a 1012 close carries in its reason ({"reconnect":{min_ms,max_ms}}),
 * or null. */
export function restartHint(reason) {
  if (typeof reason !== "string" || reason.length > 200) return null;
  try {
    const hint = JSON.parse(reason).reconnect;
    const lo = Number(hint.min_ms);
    const hi = Number(hint.max_ms);
    if (Number.isFinite(lo) && Number.isFinite(hi) && lo >= 0 && hi >= lo) return [lo, hi];
  } catch (_) {
    // not a hint: the caller backs off as usual
  }
  return null;
}
