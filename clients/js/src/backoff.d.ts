export declare const DEFAULT_MIN_MS: number;
export declare const DEFAULT_MAX_MS: number;

export interface ReconnectHint {
  min_ms?: number;
  max_ms?: number;
}

/** Full-jitter exponential backoff: a random delay in [0, min(max, min * 2^attempt)]. */
export declare class Backoff {
  constructor(options?: { minMs?: number; maxMs?: number; random?: () => number });
  minMs: number;
  maxMs: number;
  attempt: number;
  /** Adopt the server's hint (the hello frame's `reconnect`). */
  hint(reconnect: ReconnectHint | null | undefined): void;
  /** The delay (ms) before the next attempt. */
  next(): number;
  /** Near the ceiling: the server said "not now" (4429, 1013, 1008). */
  longest(): number;
  /** A random delay inside [loMs, hiMs]. */
  within(loMs: number, hiMs: number): number;
  reset(): void;
}

export type CloseAction = "stop" | "slow" | "restart" | "retry";
/** 4401/4403 stop; 4429/1013/1008 slow; 1012 restart; anything else retry. */
export declare function closeAction(code: number | undefined): CloseAction;
/** The [min, max] reconnect window of a 1012 close reason, or null. */
export declare function restartHint(reason: string | undefined): [number, number] | null;
