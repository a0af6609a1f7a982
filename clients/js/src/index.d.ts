export { Backoff, closeAction, restartHint, CloseAction, ReconnectHint } from "./backoff.js";
import { Backoff } from "./backoff.js";

export type ConnectionState = "connecting" | "connected" | "disconnected" | "closed";

export interface MessageMeta {
  topic: string;
  seq: number;
  ts?: number;
  /** true when the message came from the server's history after a resume */
  replayed: boolean;
}

export interface GapInfo {
  topic: string;
  /** not_recovered: the subscribe could not resume (history lost or too old);
   * replay_gap: the server no longer holds some messages; hole: the stream skipped */
  reason: "not_recovered" | "replay_gap" | "hole";
  since?: number | null;
  epoch?: string | null;
  oldest?: number;
  /** the seq the subscription continues after: refetch state, then carry on */
  current: number;
}

export interface Position {
  seq: number | null;
  epoch: string | null;
}

export interface SubscribeHandlers<T = unknown> {
  onMessage?: (data: T, meta: MessageMeta) => void;
  onGap?: (info: GapInfo) => void;
  /** the server refused the topic (forbidden) or took it away (revoked) */
  onError?: (frame: { op: "error"; code: string; message: string; topics?: string[] }) => void;
  /** resume after this seq (e.g. a position the app kept itself) */
  since?: number;
  epoch?: string;
}

export interface Subscription {
  readonly topic: string;
  readonly position: Position;
  readonly active: boolean;
  unsubscribe(): void;
}

/** localStorage, React Native AsyncStorage, or anything with the same three calls. */
export interface PositionStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem?(key: string): void | Promise<void>;
}

export interface HelloFrame {
  op: "hello";
  heartbeat_s: number;
  reconnect: { min_ms: number; max_ms: number };
  epoch: string;
  server: string;
}

export interface RealtimeClientOptions {
  /** ws(s)://host/ws/realtime/ */
  url: string;
  token?: string;
  /** called once after a 4401 close; a new token reconnects, anything else closes */
  getToken?: () => string | Promise<string>;
  /** a WebSocket class where there is no global one (Node < 22: `ws`) */
  WebSocket?: unknown;
  storage?: PositionStorage;
  storagePrefix?: string;
  /** pin the backoff window; by default the server's hint (hello) is used */
  backoff?: { minMs?: number; maxMs?: number };
  random?: () => number;
  watchdogGraceMs?: number;
  connectTimeoutMs?: number;
}

export declare class RealtimeClient {
  constructor(options: RealtimeClientOptions);
  readonly state: ConnectionState;
  readonly hello: HelloFrame | null;
  readonly lastClose: { code?: number; reason?: string } | null;
  readonly attempts: number;
  readonly backoff: Backoff;
  on(event: "state", fn: (state: ConnectionState) => void): () => void;
  on(event: "hello", fn: (hello: HelloFrame) => void): () => void;
  /** every socket close ({code, reason}), before the client decides what to do next */
  on(event: "close", fn: (close: { code?: number; reason?: string }) => void): () => void;
  on(event: "error", fn: (error: Error & { code?: number; frame?: unknown }) => void): () => void;
  subscribe<T = unknown>(topic: string, handlers?: SubscribeHandlers<T>): Subscription;
  /** resolves once connected; rejects if the client ends closed (4401, close()) */
  connect(): Promise<void>;
  close(): void;
}

export default RealtimeClient;
