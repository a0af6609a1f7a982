// N gateway clients in one Node process, for bench_reconnect_storm.py. Kind "sdk" uses
// @wedsync/realtime; "naive" reconnects after a fixed delay (what apps write by hand).
// stdin: "done <firstSeq> <lastSeq>" -> waits until every client has them (or a timeout),
// prints one JSON line and exits. stdout: "connected <n>" once all are up.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
// `ws` is the SDK's dev dependency (clients/js/node_modules: scripts/ensure_node.sh).
const { WebSocket } = createRequire(new URL("../clients/js/package.json", import.meta.url))("ws");
import { RealtimeClient } from "../clients/js/src/index.js";

const [url, token, topic, kind, countArg, naiveDelayArg] = process.argv.slice(2);
const count = Number(countArg);
const naiveDelay = Number(naiveDelayArg || 1000);
const attempts = []; // ms timestamps of every connection attempt
class Counting extends WebSocket {
  constructor(...args) {
    super(...args);
    attempts.push(Date.now());
  }
}
const clients = [];

function sdkClient() {
  const c = { seqs: [], connectedAt: [], gaps: [] };
  const client = new RealtimeClient({ url, token, WebSocket: Counting });
  client.on("state", (s) => s === "connected" && c.connectedAt.push(Date.now()));
  client.on("error", () => {});
  client.subscribe(topic, {
    onMessage: (_d, meta) => c.seqs.push(meta.seq),
    onGap: (info) => c.gaps.push(info.reason),
  });
  c.start = () => client.connect().catch(() => {});
  c.stop = () => client.close();
  return c;
}

function naiveClient() {
  const c = { seqs: [], connectedAt: [], last: null, stopped: false };
  const open = () => {
    const ws = new Counting(`${url}?token=${token}`);
    ws.on("error", () => {});
    ws.on("open", () => {
      const frame = { op: "subscribe", topics: [topic] };
      if (c.last !== null) frame.since = { [topic]: c.last };
      ws.send(JSON.stringify(frame));
    });
    ws.on("message", (raw) => {
      const f = JSON.parse(String(raw));
      if (f.op === "ping") ws.send('{"op":"pong"}');
      else if (f.op === "subscribed") {
        c.connectedAt.push(Date.now());
        if (c.last === null) c.last = f.positions ? f.positions[topic].seq : 0;
      } else {
        for (const m of f.op === "batch" ? f.messages : [f]) {
          if (m.op === "message" && m.seq > (c.last ?? 0)) {
            c.seqs.push(m.seq);
            c.last = m.seq;
          }
        }
      }
    });
    ws.on("close", () => {
      if (!c.stopped) setTimeout(open, naiveDelay); // the fixed delay: everyone together
    });
    c.ws = ws;
  };
  c.start = open;
  c.stop = () => {
    c.stopped = true;
    c.ws.close();
  };
  return c;
}

for (let i = 0; i < count; i++) clients.push(kind === "sdk" ? sdkClient() : naiveClient());
// Connect in a short ramp, as apps would over a few seconds, not in one instant.
for (let i = 0; i < count; i++) {
  clients[i].start();
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 100));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
while (clients.some((c) => !c.connectedAt.length)) await sleep(50);
process.stdout.write(`connected ${count}\n`);

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const [cmd, first, last] = line.trim().split(" ");
  if (cmd !== "done") continue;
  const end = Date.now() + 30000;
  const has = (c) => c.seqs.length && c.seqs.at(-1) >= Number(last);
  while (Date.now() < end && !clients.every(has)) await sleep(100);
  let lost = 0;
  let duplicated = 0;
  let lostClients = 0;
  const gaps = {};
  for (const c of clients) {
    for (const g of c.gaps || []) gaps[g] = (gaps[g] || 0) + 1;
    const before = lost;
    const seen = new Set();
    for (const s of c.seqs) {
      if (seen.has(s)) duplicated += 1;
      seen.add(s);
    }
    for (let s = Number(first); s <= Number(last); s++) if (!seen.has(s)) lost += 1;
    if (lost > before) lostClients += 1;
  }
  const out = {
    kind,
    clients: count,
    attempts,
    reconnected_at: clients.map((c) => (c.connectedAt.length > 1 ? c.connectedAt.at(-1) : null)),
    lost,
    lost_clients: lostClients,
    gaps,
    duplicated,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
  for (const c of clients) c.stop();
  setTimeout(() => process.exit(0), 500);
  break;
}
