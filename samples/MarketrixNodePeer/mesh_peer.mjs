// A plain Marketrix mesh peer in Node.js, with no dependencies: it registers in Redis with only the
// Marketrix fields, serves POST /channel over h2c, or dials a peer's /channel, and streams
// length-prefixed JSON frames both ways ("Message from Node #i"), like the Marketrix demo.
//
//   node mesh_peer.mjs --name node-peer [--redis 127.0.0.1:6379] [--listen 0] [--dial host:port] [--count N]
//
// It prints one line per event a test can wait for: "listening <port>", "registered <key>",
// "connected <peer>", "received <n> <json>", "sent <n>", "done received=<n> sent=<n>".
import http2 from 'node:http2';
import net from 'node:net';
import { randomUUID } from 'node:crypto';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]?.startsWith('--') ? 'true' : all[i + 1]]] : pairs, []));
const name = args.name ?? 'node-peer';
const count = Number(args.count ?? 10);
const id = randomUUID();
const out = line => process.stdout.write(line + '\n');

// ---- framing: [u32 big-endian length][JSON payload] ----
function frame(obj) {
  const payload = Buffer.from(JSON.stringify(obj), 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

function frameReader(onFrame) {
  let pending = Buffer.alloc(0);
  return chunk => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (pending.length < 4 + length) break;
      onFrame(pending.subarray(4, 4 + length).toString('utf8'));
      pending = pending.subarray(4 + length);
    }
  };
}

// ---- one channel: stream our messages while printing theirs ----
let received = 0, sent = 0;
function stream(readable, writable, peer) {
  out(`connected ${peer}`);
  readable.on('data', frameReader(json => { received++; out(`received ${received} ${json}`); finishIfDone(writable); }));
  for (let i = 0; i < count; i++) {
    writable.write(frame({ message: `Message from Node #${i}`, from: name, n: i }));
    sent++;
  }
  out(`sent ${sent}`);
  finishIfDone(writable);
}

function finishIfDone(writable) {
  if (received >= count && sent >= count) {
    out(`done received=${received} sent=${sent}`);
    writable.end();
    setImmediate(() => process.exit(0));
  }
}

// ---- Redis registration, spoken in RESP by hand (SET key value EX ttl, refreshed every 2 s) ----
function redisCommand(address, words) {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host, () =>
      socket.end(`*${words.length}\r\n` + words.map(w => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')));
    let reply = '';
    socket.on('data', d => reply += d);
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

async function register(port) {
  if (!args.redis) return;
  const key = `mesh:service:${name}:${id}`;
  const value = JSON.stringify({ id, service_name: name, host: '127.0.0.1', port });
  const set = () => redisCommand(args.redis, ['SET', key, value, 'EX', '6']);
  await set();
  setInterval(set, 2000).unref();
  out(`registered ${key}`);
}

if (args.dial) {
  const session = http2.connect(`http://${args.dial}`);
  session.on('error', e => { out(`error ${e.message}`); process.exit(1); });
  const req = session.request({ ':method': 'POST', ':path': '/channel', 'x-service-name': name }, { endStream: false });
  req.on('response', headers => {
    if (headers[':status'] !== 200) { out(`error status ${headers[':status']}`); process.exit(1); }
    stream(req, req, args.dial);
  });
} else {
  const server = http2.createServer();
  server.on('stream', (s, headers) => {
    if (headers[':path'] !== '/channel' || headers[':method'] !== 'POST') { s.respond({ ':status': 404 }); s.end(); return; }
    s.respond({ ':status': 200 });
    stream(s, s, headers['x-service-name']);
  });
  server.listen(Number(args.listen ?? 0), '127.0.0.1', async () => {
    const port = server.address().port;
    out(`listening ${port}`);
    await register(port);
  });
}
