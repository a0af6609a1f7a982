// The SDK against the real Daphne gateway. The rig (a Daphne on a private Redis, a
// supplier, a publisher over the API, restart and flush) is run by
// tests/clients/test_js_sdk.py, which sets WSO_RIG to its control URL and runs this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";

import { RealtimeClient } from "../src/index.js";

const RIG = process.env.WSO_RIG;
const skip = RIG ? false : "needs the gateway rig: run tests/clients/test_js_sdk.py";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function rig(path, body) {
  const res = await fetch(RIG + path, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status >= 400) throw new Error(`${path}: ${JSON.stringify(json)}`);
  return json;
}

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

function memoryStorage() {
  const map = new Map();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

function follow(client, topic) {
  const got = [];
  const gaps = [];
  const sub = client.subscribe(topic, {
    onMessage: (data, meta) => got.push({ seq: meta.seq, n: data.n, replayed: meta.replayed }),
    onGap: (info) => gaps.push(info),
  });
  return { got, gaps, sub };
}

function assertExactlyOnceInOrder(got, acked, what) {
  const seqs = got.map((m) => m.seq);
  for (let i = 1; i < seqs.length; i++) {
    assert.equal(seqs[i], seqs[i - 1] + 1, `${what}: ${seqs[i - 1]} then ${seqs[i]} (a hole or a duplicate)`);
  }
  const have = new Set(seqs);
  const missing = acked.filter((s) => !have.has(s));
  assert.deepEqual(missing, [], `${what}: acknowledged publishes never delivered`);
}

test("a restart of the web process mid-stream: every message exactly once, in order", { skip }, async (t) => {
  const cfg = await rig("/config");
  const topic = cfg.topics[0];
  const client = new RealtimeClient({ url: cfg.ws_url, token: cfg.token, WebSocket });
  t.after(() => client.close());
  const states = [];
  const closes = [];
  client.on("state", (s) => states.push(s));
  client.on("close", (c) => closes.push(c.code));
  const { got, gaps, sub } = follow(client, topic);
  await client.connect();
  await until(() => sub.position.epoch, 5000, "the subscription's position");
  const acked = [];
  let n = 0;
  const publishSome = async (count) => {
    for (let i = 0; i < count; i++) acked.push((await rig("/publish", { topic, data: { n: ++n } })).seq);
  };
  await publishSome(15);
  const restarting = rig("/restart-sync", {});
  await publishSome(40); // before, during (1012 closes spread over a second) and after
  await restarting;
  await publishSome(15);
  await until(() => got.length && got.at(-1).seq >= acked.at(-1), 30000, "the last message");
  assertExactlyOnceInOrder(got, acked, "across the restart");
  assert.equal(closes[0], 1012, `the old process said it was restarting (closes: ${closes})`);
  assert.ok(states.filter((s) => s === "connected").length >= 2, `states: ${states}`);
  assert.deepEqual(gaps, []);
  client.close();
});

test("messages published while the app was away are replayed on resume (positions kept in storage)", { skip }, async (t) => {
  const cfg = await rig("/config");
  const topic = cfg.topics[1];
  const storage = memoryStorage();
  const first = new RealtimeClient({ url: cfg.ws_url, token: cfg.token, WebSocket, storage });
  t.after(() => first.close());
  const a = follow(first, topic);
  await first.connect();
  await until(() => a.sub.position.epoch, 5000, "position");
  const acked = [];
  for (let i = 1; i <= 5; i++) acked.push((await rig("/publish", { topic, data: { n: i } })).seq);
  await until(() => a.got.length === 5, 10000, "five live messages");
  first.close(); // the app is killed; its storage survives
  for (let i = 6; i <= 12; i++) acked.push((await rig("/publish", { topic, data: { n: i } })).seq);
  const second = new RealtimeClient({ url: cfg.ws_url, token: cfg.token, WebSocket, storage });
  t.after(() => second.close());
  const b = follow(second, topic);
  await second.connect();
  await until(() => b.got.length >= 7, 10000, "the replay");
  assert.deepEqual(b.got.map((m) => m.n), [6, 7, 8, 9, 10, 11, 12]);
  assert.ok(b.got.every((m) => m.replayed), "marked as replayed");
  assertExactlyOnceInOrder([...a.got, ...b.got], acked, "live then replayed");
  acked.push((await rig("/publish", { topic, data: { n: 13 } })).seq);
  await until(() => b.got.length === 8, 10000, "a live message after the replay");
  assert.equal(b.got.at(-1).replayed, false);
  assert.deepEqual(b.gaps, []);
  second.close();
});

test("Redis flushed while away: recovered false, onGap, then live again", { skip }, async (t) => {
  const cfg = await rig("/config");
  const topic = cfg.topics[2];
  const storage = memoryStorage();
  const first = new RealtimeClient({ url: cfg.ws_url, token: cfg.token, WebSocket, storage });
  t.after(() => first.close());
  const a = follow(first, topic);
  await first.connect();
  await until(() => a.sub.position.epoch, 5000, "position");
  for (let i = 1; i <= 3; i++) await rig("/publish", { topic, data: { n: i } });
  await until(() => a.got.length === 3, 10000, "three messages");
  const before = a.sub.position;
  first.close();
  await rig("/flush", {});
  await rig("/publish", { topic, data: { n: 4 } }); // into the new, empty history
  const second = new RealtimeClient({ url: cfg.ws_url, token: cfg.token, WebSocket, storage });
  t.after(() => second.close());
  const b = follow(second, topic);
  await second.connect();
  await until(() => b.gaps.length === 1, 10000, "onGap");
  assert.equal(b.gaps[0].reason, "not_recovered");
  assert.equal(b.gaps[0].epoch, before.epoch);
  assert.notEqual(b.sub.position.epoch, before.epoch, "a new epoch after the flush");
  assert.deepEqual(b.got, [], "nothing from a history that is not the one the position counted in");
  await rig("/publish", { topic, data: { n: 5 } });
  await until(() => b.got.length === 1, 10000, "live after the gap");
  assert.equal(b.got[0].n, 5);
  second.close();
});

test("a bad token: connect() rejects, no retry loop", { skip }, async (t) => {
  const cfg = await rig("/config");
  const client = new RealtimeClient({ url: cfg.ws_url, token: "wss_not-a-token", WebSocket });
  t.after(() => client.close());
  await assert.rejects(client.connect(), (err) => err.code === 4401);
  await sleep(2000);
  assert.equal(client.attempts, 1);
  assert.equal(client.state, "closed");
  let asked = 0;
  const refreshed = new RealtimeClient({
    url: cfg.ws_url, token: "wss_expired", WebSocket, getToken: async () => { asked += 1; return cfg.token; },
  });
  await refreshed.connect();
  assert.equal(asked, 1);
  assert.equal(refreshed.attempts, 2);
  refreshed.close();
});
