// Load client for bench/api_websocket.sh: N WebSocket clients (raw RFC 6455 over node:net, no
// dependencies) subscribe to /api/v1/live and measure, for every state message, the time from the
// server stamping it ("sent", when the state change was ingested) to its arrival.
// usage: node websocket_clients.mjs PORT TOKEN CLIENTS SECONDS NODES_JSON
import net from 'node:net';
import crypto from 'node:crypto';

const [port, token, clientsWanted, seconds, nodesJson] = process.argv.slice(2);
const n = Number(clientsWanted);
const latencies = [];
let connected = 0, subscribed = 0, failed = 0, stateMessages = 0, kpiMessages = 0;

function frame(text) {
  const payload = Buffer.from(text);
  const mask = crypto.randomBytes(4);
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; ++i) masked[i] = payload[i] ^ mask[i % 4];
  return Buffer.concat([header, mask, masked]);
}

function open() {
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      socket.write(`GET /api/v1/live HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        `Authorization: Bearer ${token}\r\n\r\n`);
    });
    socket.on('data', (chunk) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buffer.subarray(0, 12).toString().includes('101')) { failed++; socket.destroy(); resolve(); return; }
        upgraded = true;
        connected++;
        buffer = buffer.subarray(end + 4);
        socket.write(frame(JSON.stringify({ type: 'subscribe', nodes: JSON.parse(nodesJson) })));
        resolve();
      }
      for (;;) {
        if (buffer.length < 2) return;
        let length = buffer[1] & 0x7f, offset = 2;
        if (length === 126) { if (buffer.length < 4) return; length = buffer.readUInt16BE(2); offset = 4; }
        else if (length === 127) { if (buffer.length < 10) return; length = Number(buffer.readBigUInt64BE(2)); offset = 10; }
        if (buffer.length < offset + length) return;
        const opcode = buffer[0] & 0x0f;
        const text = buffer.subarray(offset, offset + length).toString();
        buffer = buffer.subarray(offset + length);
        if (opcode !== 1) continue;
        if (text.startsWith('{"type":"state')) {  // "state", or a "states" batch
          const now = Date.now();
          for (const sent of text.matchAll(/"sent":"([^"]+)"/g)) {
            stateMessages++;
            if (measuring) latencies.push(now - Date.parse(sent[1]));
          }
        } else if (text.startsWith('{"type":"kpi"')) {
          kpiMessages++;
        } else if (text.startsWith('{"type":"subscribed"')) {
          subscribed++;
        }
      }
    });
    socket.on('error', () => { failed++; resolve(); });
  });
}

let measuring = false;
for (let i = 0; i < n; i += 250) {
  const batch = [];
  for (let j = i; j < Math.min(n, i + 250); ++j) batch.push(open());
  await Promise.all(batch);
}
await new Promise((r) => setTimeout(r, 2000));
measuring = true;
const kpiBefore = kpiMessages;
// This process's own CPU over the window: near 100 % it is the bottleneck, not the server.
const cpuBefore = process.cpuUsage();
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
measuring = false;
const cpu = process.cpuUsage(cpuBefore);
latencies.sort((a, b) => a - b);
const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : -1);
console.log(JSON.stringify({ clients: n, connected, subscribed, failed, state_samples: latencies.length,
  p50_ms: q(0.5), p99_ms: q(0.99), max_ms: latencies.length ? latencies[latencies.length - 1] : -1,
  kpi_messages_per_s: (kpiMessages - kpiBefore) / Number(seconds),
  cpu_percent: Math.round((cpu.user + cpu.system) / 1e4 / Number(seconds)) }));
process.exit(0);
