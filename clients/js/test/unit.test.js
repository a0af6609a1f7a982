// The SDK against fake servers (the `ws` package's server): backoff shapes, close codes,
// the watchdog, and a frame fuzzer (garbage from the server never throws into the app).
import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocketServer, WebSocket } from "ws";

import { Backoff, RealtimeClient, closeAction, restartHint } from "../src/index.js";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(cond, ms = 5000, what = "condition") {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A fake gateway: `onConnection(socket, index)` scripts each connection. */
async function fakeServer(onConnection) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  const seen = [];
  wss.on("connection", (socket, req) => {
    seen.push(req.url);
    socket.on("error", () => {});
    onConnection(socket, seen.length - 1);
  });
  return {
    url: `ws://127.0.0.1:${wss.address().port}/ws/realtime/`,
    seen,
    close: () => new Promise((r) => {
      for (const c of wss.clients) c.terminate();
      wss.close(r);
    }),
  };
}

const hello = (extra = {}) =>
  JSON.stringify({ op: "hello", heartbeat_s: 25, reconnect: { min_ms: 20, max_ms: 80 }, epoch: "e1", server: "fake", ...extra });

test("full jitter stays inside the window and grows to the ceiling", () => {
  const b = new Backoff({ minMs: 500, maxMs: 20000 });
  const caps = [];
  for (let i = 0; i < 12; i++) {
    let top = 0;
    const probe = new Backoff({ minMs: 500, maxMs: 20000, random: () => 0.999999 });
    probe.attempt = i;
    top = probe.next();
    caps.push(top);
    const d = b.next();
    assert.ok(d >= 0 && d <= 20000, `delay ${d}`);
  }
  assert.equal(caps[0], 500);
  assert.equal(caps[3], 4000);
  assert.equal(caps[11], 20000);
  const low = new Backoff({ random: () => 0 });
  assert.equal(low.next(), 0, "full jitter may retry at once");
  const slow = new Backoff({ minMs: 500, maxMs: 20000, random: () => 0 });
  assert.equal(slow.longest(), 10000, "4429/1013 wait at least half the ceiling");
  b.hint({ min_ms: 2500, max_ms: 30000 });
  assert.deepEqual([b.minMs, b.maxMs], [2500, 30000]);
  b.hint({ min_ms: "x", max_ms: -1 });
  assert.deepEqual([b.minMs, b.maxMs], [2500, 30000], "a malformed hint is ignored");
});

test("close codes map to what the client does next", () => {
  assert.equal(closeAction(4401), "stop");
  assert.equal(closeAction(4429), "slow");
  assert.equal(closeAction(1013), "slow");
  assert.equal(closeAction(1012), "restart");
  assert.equal(closeAction(1006), "retry");
  assert.equal(closeAction(4408), "retry");
  assert.deepEqual(restartHint('{"reconnect":{"min_ms":500,"max_ms":5000}}'), [500, 5000]);
  assert.equal(restartHint("service restart"), null);
  assert.equal(restartHint('{"reconnect":{"min_ms":9,"max_ms":1}}'), null);
});

test("4401 is not retried; getToken is asked once and its token used", async () => {
  const server = await fakeServer((socket) => {
    if (socket && server.seen.at(-1).includes("token=good")) socket.send(hello());
    else socket.close(4401);
  });
  const plain = new RealtimeClient({ url: server.url, token: "bad", WebSocket });
  await assert.rejects(plain.connect(), /4401/);
  await sleep(300);
  assert.equal(plain.attempts, 1, "no retry loop after 4401");
  assert.equal(plain.state, "closed");

  let asked = 0;
  const refreshing = new RealtimeClient({
    url: server.url, token: "bad", WebSocket, getToken: async () => { asked += 1; return "good"; },
  });
  await refreshing.connect();
  assert.equal(asked, 1);
  assert.equal(refreshing.state, "connected");
  refreshing.close();

  let again = 0;
  const stillBad = new RealtimeClient({
    url: server.url, token: "bad", WebSocket, getToken: async () => { again += 1; return "worse"; },
  });
  await assert.rejects(stillBad.connect(), /4401/);
  await sleep(300);
  assert.equal(again, 1, "a refreshed token that fails too is not retried");
  assert.equal(stillBad.attempts, 2);
  await server.close();
});

test("4429 and 1013 back off to the ceiling; 1012 comes back inside its hint", async () => {
  const opened = [];
  const codes = [4429, 1013, 1012];
  const server = await fakeServer((socket, i) => {
    opened.push(Date.now());
    socket.send(hello({ reconnect: { min_ms: 20, max_ms: 600 } }));
    const code = codes[i];
    if (code === 1012) socket.close(1012, '{"reconnect":{"min_ms":50,"max_ms":60}}');
    else if (code) setTimeout(() => socket.close(code), 20);
  });
  const client = new RealtimeClient({ url: server.url, token: "t", WebSocket, random: () => 0 });
  await client.connect();
  await until(() => opened.length >= 4, 8000, "four connections");
  const gaps = opened.slice(1).map((t, i) => t - opened[i]);
  assert.ok(gaps[0] >= 300, `after 4429 waited ${gaps[0]} ms (ceiling 600, at least half)`);
  assert.ok(gaps[1] >= 300, `after 1013 waited ${gaps[1]} ms`);
  assert.ok(gaps[2] >= 50 && gaps[2] < 300, `after 1012 came back in ${gaps[2]} ms (hint 50-60)`);
  client.close();
  await server.close();
});

test("the watchdog drops a silent socket and reconnects", async () => {
  let connections = 0;
  const server = await fakeServer((socket) => {
    connections += 1;
    socket.send(hello({ heartbeat_s: 0.2 })); // then silence: no pings, no close
  });
  const client = new RealtimeClient({ url: server.url, token: "t", WebSocket, watchdogGraceMs: 100 });
  const states = [];
  client.on("state", (s) => states.push(s));
  await client.connect();
  await until(() => connections >= 2, 5000, "a reconnect after silence");
  assert.equal(client.lastClose.code, 4408);
  assert.ok(states.includes("disconnected"));
  client.close();
  await server.close();
});

// --- the fuzzer ------------------------------------------------------------------
function seeded(seed) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

function garbage(rnd, topic) {
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const values = [null, true, -1, 1.5, 2 ** 60, "7", "", [], {}, [1, 2], { seq: 3 }, "\u0000", NaN];
  const kinds = [
    () => String.fromCharCode(...Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 0xd7ff))),
    () => "{" + "[".repeat(Math.floor(rnd() * 50)),
    () => JSON.stringify(pick(values)),
    () => JSON.stringify({ op: pick(["message", "batch", "subscribed", "error", "hello", "ping", "zzz", 5, null]) }),
    () => JSON.stringify({ op: "message", topic: pick([topic, 5, null, "wedding:999"]), seq: pick(values), data: pick(values) }),
    () => JSON.stringify({ op: "batch", messages: pick([null, "x", [null, 1, { op: "message", topic, seq: "9" }], {}]) }),
    () => JSON.stringify({ op: "subscribed", topics: pick([null, topic, [topic, 3]]), positions: pick([null, 5, { [topic]: pick(values) }]) }),
    () => JSON.stringify({ op: "error", code: pick(["replay_gap", "forbidden", 5]), topic: pick([topic, 1]), current: pick(values), topics: pick([null, "x", []]) }),
    () => JSON.stringify({ op: "hello", heartbeat_s: pick(values), reconnect: pick(values) }),
  ];
  return pick(kinds)();
}

for (const seed of [42, 7, 2026]) test(`frame fuzzer (seed ${seed}): garbage from the server never throws into the app`, async () => {
  const topic = "wedding:1";
  const rnd = seeded(seed);
  const thrown = [];
  const onUncaught = (err) => thrown.push(err);
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  let seq = 0;
  const server = await fakeServer((socket) => {
    socket.send(hello());
    socket.on("message", (raw) => {
      const frame = JSON.parse(String(raw));
      if (frame.op !== "subscribe") return;
      socket.send(JSON.stringify({ op: "subscribed", topics: [topic], positions: { [topic]: { seq: 0, epoch: "e1" } } }));
      for (let i = 0; i < 2000; i++) {
        socket.send(garbage(rnd, topic));
        if (i % 100 === 0) {
          seq += 1;
          socket.send(JSON.stringify({ op: "message", topic, seq, ts: 1, data: { n: seq } }));
        }
      }
      socket.send(Buffer.from([0xff, 0x00, 0x13]), { binary: true });
      seq += 1;
      socket.send(JSON.stringify({ op: "message", topic, seq, ts: 1, data: { n: seq, last: true } }));
    });
  });
  const client = new RealtimeClient({ url: server.url, token: "t", WebSocket });
  const got = [];
  const errors = [];
  client.on("error", (e) => errors.push(e));
  client.subscribe(topic, { onMessage: (data, meta) => got.push([meta.seq, data && data.n]) });
  await client.connect();
  await until(() => got.some(([, n]) => n === seq), 10000, "the last valid message");
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUncaught);
  assert.deepEqual(thrown, []);
  // Every valid message exactly once and in order; nothing else reached the app.
  const seqs = got.map(([s]) => s);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  assert.equal(new Set(seqs).size, seqs.length);
  for (let s = 1; s <= seq; s++) assert.ok(seqs.includes(s), `valid message ${s} delivered`);
  assert.ok(got.every(([s, n]) => Number.isSafeInteger(s) && s >= 0 && (n === undefined || typeof n === "number")));
  assert.equal(client.state, "connected");
  client.close();
  await server.close();
});

test("an app callback that throws does not stop delivery", async () => {
  const topic = "wedding:2";
  const server = await fakeServer((socket) => {
    socket.send(hello());
    socket.on("message", (raw) => {
      if (JSON.parse(String(raw)).op !== "subscribe") return;
      socket.send(JSON.stringify({ op: "subscribed", topics: [topic], positions: { [topic]: { seq: 0, epoch: "e" } } }));
      for (let s = 1; s <= 3; s++) socket.send(JSON.stringify({ op: "message", topic, seq: s, ts: 1, data: s }));
    });
  });
  const client = new RealtimeClient({ url: server.url, token: "t", WebSocket });
  const got = [];
  const errors = [];
  client.on("error", (e) => errors.push(e));
  client.subscribe(topic, { onMessage: (d) => { got.push(d); if (d === 1) throw new Error("app bug"); } });
  await client.connect();
  await until(() => got.length === 3, 3000, "three messages");
  assert.deepEqual(got, [1, 2, 3]);
  assert.ok(errors.some((e) => e.message === "app bug"));
  client.close();
  await server.close();
});
