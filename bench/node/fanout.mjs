// The gateway benchmark's subscribers: N WebSocket connections in one Node process (ws),
// cheaper per message than the server it measures, so latency is the server's.
//
//   node fanout.mjs <url> <connections> <topic>
//
// Prints {"ready": n, "errors": e} once every socket is subscribed; then counts the
// messages whose data carries {"ph": phase, "t": publisher epoch ms}; on "report\n" on
// stdin prints {"phases": {ph: {n, first, last, lat: [ms...]}}} and resets; on "stop\n"
// (or stdin's end) closes everything and exits.
import { WebSocket } from "ws";
import readline from "node:readline";

const [url, countArg, topic] = process.argv.slice(2);
const count = Number(countArg);
const nowMs = () => performance.timeOrigin + performance.now();
let phases = {};
const sockets = [];

function record(data, now) {
  if (!data || data.ph === undefined) return;
  const ph = (phases[data.ph] ??= { n: 0, first: now, last: now, lat: [] });
  ph.n += 1;
  ph.last = now;
  if (typeof data.t === "number") ph.lat.push(now - data.t);
}

function onMessage(ws, raw) {
  const text = raw.toString();
  if (text.startsWith('{"op":"ping"')) {
    ws.send('{"op":"pong"}');
    return;
  }
  const now = nowMs();
  const frame = JSON.parse(text);
  if (frame.op === "subscribed") {
    ws.emit("subscribed");
    return;
  }
  const items = frame.op === "batch" ? frame.messages : [frame];
  for (const m of items) record(m.data, now);
}

function open() {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => resolve(null), 60_000);
    ws.on("open", () => ws.send(JSON.stringify({ op: "subscribe", topics: [topic] })));
    ws.on("message", (raw) => onMessage(ws, raw));
    ws.once("subscribed", () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.on("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

// A few handshakes at a time: Daphne drops a socket whose app has not accepted in 5 s.
const parallel = 20;
let errors = 0;
for (let i = 0; i < count; i += parallel) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(parallel, count - i) }, open),
  );
  for (const ws of batch) ws ? sockets.push(ws) : (errors += 1);
}
process.stdout.write(JSON.stringify({ ready: sockets.length, errors }) + "\n");

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (line.trim() === "report") {
    const closed = sockets.filter((ws) => ws.readyState !== WebSocket.OPEN).length;
    process.stdout.write(JSON.stringify({ phases, closed }) + "\n");
    phases = {};
  } else if (line.trim() === "stop") {
    rl.close();
  }
});
rl.on("close", () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
