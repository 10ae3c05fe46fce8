// A replica of a MeshActors replicated dictionary in Node.js, with no dependencies, written from docs/protocol.md
// (sections 2, 5 and 14) alone: it dials a node's /channel with the mesh protocol v1, announces the dictionary's topic,
// pulls the node's state and answers the node's pull, merges every version by the section 14.4 rule, and writes its own
// keys as deltas once it has the node's state.
//
//   node dict_peer.mjs --dial host:port --dict name [--set key=json]... [--expect key=json] [--name dict-peer] [--timeout 20]
//
// It prints one line per event a test can wait for: "connected <node id>", "synced keys=<n>", "value <key> <json>",
// "removed <key>", "conflict <key> <n>", "refused <key>", "skipped <key>", "wrote <key>", "done", or "timeout".
import http2 from 'node:http2';
import { randomUUID } from 'node:crypto';

const argv = process.argv.slice(2);
const option = name => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
const pairs = name => argv.flatMap((a, i) => a === `--${name}` ? [argv[i + 1]] : [])
  .map(pair => [pair.slice(0, pair.indexOf('=')), JSON.parse(pair.slice(pair.indexOf('=') + 1))]);
const out = line => process.stdout.write(line + '\n');

const name = option('name') ?? 'dict-peer';
const topic = `$dict/${option('dict')}`;
const writes = pairs('set');
const expected = pairs('expect');
const node = randomUUID();
const replica = randomUUID().replaceAll('-', '');
setTimeout(() => { out('timeout'); process.exit(1); }, 1000 * Number(option('timeout') ?? 20)).unref();

// ---- the merge rule (14.4): per key, the versions no other version has seen ----
const entries = new Map();
let clock = 0;

function compare(a, b) {
  let ahead = false, behind = false;
  for (const r of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const [x, y] = [a[r] ?? 0, b[r] ?? 0];
    ahead ||= x > y;
    behind ||= x < y;
  }
  return ahead && behind ? 'concurrent' : ahead ? 'after' : behind ? 'before' : 'equal';
}

const order = (x, y) => x.stamp - y.stamp || (x.replica < y.replica ? -1 : x.replica > y.replica ? 1 : 0);

// A stamp or count is an integer from 1 to 2^53-1 (14.2): a version with one outside is refused alone (14.4). The
// clock follows other replicas' stamps only up to 2^52, so that no stamp leaves it without room to write (14.2).
const count = n => Number.isSafeInteger(n) && n >= 1;
const followed = 2 ** 52;
const valid = v => v && typeof v === 'object' && typeof v.replica === 'string' && v.replica && typeof v.node === 'string' && v.node
  && count(v.stamp) && v.vv && typeof v.vv === 'object' && Object.values(v.vv).every(count) && count(v.vv[v.replica])
  && (v.removed === true || 'value' in v);

function merge(key, version) {
  if (!valid(version)) { out(`refused ${key}`); return; }
  clock = Math.max(clock, version.replica === replica ? version.stamp : Math.min(version.stamp, followed));
  const current = entries.get(key) ?? [];
  if (current.some(s => ['after', 'equal'].includes(compare(s.vv, version.vv)))) return;
  const next = current.filter(s => compare(s.vv, version.vv) === 'concurrent').concat([version]).sort(order);
  entries.set(key, next);
  const winner = next[next.length - 1];
  if (next.length > 1) out(`conflict ${key} ${next.length}`);
  out(winner.removed ? `removed ${key}` : `value ${key} ${JSON.stringify(winner.value)}`);
}

function shown(key) {
  const versions = entries.get(key);
  const winner = versions?.[versions.length - 1];
  return winner && !winner.removed ? JSON.stringify(winner.value) : undefined;
}

function write(key, value) {
  const vv = {};
  for (const s of entries.get(key) ?? []) for (const [r, c] of Object.entries(s.vv)) vv[r] = Math.max(vv[r] ?? 0, c);
  vv[replica] = (vv[replica] ?? 0) + 1;
  if (clock >= Number.MAX_SAFE_INTEGER || vv[replica] > Number.MAX_SAFE_INTEGER) { out(`error cannot write ${key}`); return; }
  const version = { replica, node, vv, stamp: ++clock, value };
  merge(key, version);
  send({ t: 'pub', topic, data: { v: 1, kind: 'delta', replica, entries: [{ key, versions: [version] }] } });
  out(`wrote ${key}`);
}

// ---- framing (3) ----
let channel;
function send(envelope) {
  const payload = Buffer.from(JSON.stringify(envelope), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(payload.length);
  channel.write(Buffer.concat([length, payload]));
}

function frames(onFrame) {
  let pending = Buffer.alloc(0);
  return chunk => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const length = pending.readUInt32BE(0);
      onFrame(JSON.parse(pending.subarray(4, 4 + length).toString('utf8')));
      pending = pending.subarray(4 + length);
    }
  };
}

// ---- the channel: hello (5.1), interest (5.7), ping (5.8), and the dictionary's messages (14) ----
let hello = false, peerIsReplica = false, pullPending = false, synced = false, maxFrame = 65536;

// Each message must fit one frame of the node (14.3): the state goes in as many as it takes; an entry too large alone is left out.
function sendState() {
  const message = (list, final) => ({ t: 'pub', topic, data: { v: 1, kind: 'state', replica, entries: list, ...(final ? { final } : {}) } });
  const empty = Buffer.byteLength(JSON.stringify(message([], true)));
  let chunk = [], bytes = empty;
  for (const [key, versions] of entries) {
    const entry = Buffer.byteLength(JSON.stringify({ key, versions })) + 1;
    if (empty + entry > maxFrame) { out(`skipped ${key}`); continue; }
    if (bytes + entry > maxFrame) { send(message(chunk, false)); chunk = []; bytes = empty; }
    chunk.push({ key, versions });
    bytes += entry;
  }
  send(message(chunk, true));
}

function onEnvelope(envelope) {
  if (!hello) {
    if (envelope.t !== 'hello') { out(`error first frame ${envelope.t}`); process.exit(1); }
    hello = true;
    maxFrame = envelope.max_frame ?? maxFrame;
    out(`connected ${envelope.node}`);
    send({ t: 'interest', ver: 1, topics: [topic], services: [] });
    return;
  }

  switch (envelope.t) {
    case 'ping':
      send({ t: 'pong', n: envelope.n });
      break;
    case 'interest':
      // A replica there now: ask for its state, and answer its pull if it came first (14.3).
      if (envelope.topics.includes(topic) && !peerIsReplica) {
        peerIsReplica = true;
        send({ t: 'pub', topic, data: { v: 1, kind: 'pull', replica } });
        if (pullPending) sendState();
      }
      break;
    case 'pub':
      if (envelope.topic === topic) onDictionary(envelope.data);
      break;
  }
}

function onDictionary(message) {
  if (message.kind === 'pull') {
    if (peerIsReplica) sendState(); else pullPending = true;
    return;
  }

  for (const { key, versions } of message.entries) for (const version of versions) merge(key, version);
  if (message.kind === 'state' && message.final && !synced) {
    synced = true;
    out(`synced keys=${entries.size}`);
    for (const [key, value] of writes) write(key, value);
  }

  if (synced && expected.every(([key, value]) => shown(key) === JSON.stringify(value))) {
    out('done');
    send({ t: 'bye', reason: 'shutdown' });
    channel.end();
    setTimeout(() => process.exit(0), 200);
  }
}

const session = http2.connect(`http://${option('dial')}`);
session.on('error', e => { out(`error ${e.message}`); process.exit(1); });
channel = session.request({ ':method': 'POST', ':path': '/channel', 'x-service-name': name, 'x-mesh-protocol': '1' }, { endStream: false });
channel.on('response', headers => {
  if (headers[':status'] !== 200 || headers['x-mesh-protocol'] !== '1') { out(`error status ${headers[':status']}`); process.exit(1); }
});
send({ t: 'hello', v: 1, node, name, caps: [] });
channel.on('data', frames(onEnvelope));
