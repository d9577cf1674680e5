// Idle and slow clients cannot take the server down: more idle and slowloris connections than
// FLAGHOST_MAX_CONNECTIONS leave /flags answering at once (and an established keep-alive client
// connected), and each kind of idle or slow socket is closed after its documented timeout.
// Short timeouts here; the defaults are in src/platform/config.ts and the README.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PROJECT_TOKEN, type TestApp } from '../helpers/app.ts';

const LIMIT = 40;
const HEADERS_MS = 600;
const REQUEST_MS = 3000;
const KEEP_ALIVE_MS = 600;
const IDLE_MS = 1200;
/** Node checks the headers and request timeouts periodically; a loaded machine adds its own delay. */
const SLACK_MS = 3000;

let t: TestApp;
let port: number;
const sockets: net.Socket[] = [];

/** An app with these connection settings, and one flag enabled for everyone. */
async function start(env: Record<string, number>): Promise<void> {
  await t?.close();
  t = await createTestApp({ env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) });
  port = (t.app.server.address() as { port: number }).port;
  const flag = await t
    .api('post', '/api/projects/1/feature_flags/')
    .send({ key: 'always', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
  expect(flag.status).toBe(201);
}

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await t?.close();
});

interface Watched {
  socket: net.Socket;
  received: () => string;
  /** Milliseconds after `since` at which the server closed the connection. */
  closedAfter: Promise<number>;
}

function connect(since = performance.now()): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    let received = '';
    socket.on('data', (d) => (received += d));
    socket.on('error', () => {
      // The server closing this socket is what the test measures (closedAfter), not an error.
    });
    const closedAfter = new Promise<number>((done) => socket.on('close', () => done(performance.now() - since)));
    socket.once('connect', () => resolve({ socket, received: () => received, closedAfter }));
    socket.once('error', reject);
  });
}

const isOpen = (w: Watched) => !w.socket.destroyed && w.socket.readyState === 'open';

function flagsRequest(agent: http.Agent | false): Promise<{ status: number; ms: number; body: string; reused: boolean }> {
  const body = JSON.stringify({ api_key: PROJECT_TOKEN, distinct_id: 'someone' });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/flags?v=2',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, body: text, reused: req.reusedSocket }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `condition` holds (the server handles sockets in its own time: on a loaded machine a
 * fixed pause may be too short), then returns; fails with `what` after `limitMs`.
 */
async function until(what: string, condition: () => boolean | Promise<boolean>, limitMs = 10_000): Promise<void> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > limitMs) throw new Error(`still not true after ${limitMs} ms: ${what}`);
    await pause(10);
  }
}

/** Connections the server holds open (not what the client sees, which can lag behind). */
const serverConnections = () =>
  new Promise<number>((resolve, reject) => t.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));

describe('connection limit', () => {
  beforeAll(() => start({ FLAGHOST_MAX_CONNECTIONS: LIMIT }));
  // Whichever test ran before, its sockets are gone on the server side too.
  beforeEach(() => until('no connection left from the previous test', async () => (await serverConnections()) === 0));

  it('more idle and slowloris connections than the limit: /flags answers at once, a keep-alive client stays connected', async () => {
    // A well-behaved SDK with a keep-alive connection, established before the flood.
    const sdk = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await flagsRequest(sdk)).status).toBe(200);

    const idle: Watched[] = [];
    for (let i = 0; i < LIMIT * 2; i++) idle.push(await connect());
    const slow: Watched[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const w = await connect();
      w.socket.write('POST /flags?v=2 HTTP/1.1\r\nHost: x\r\n');
      slow.push(w);
    }
    const trickle = setInterval(() => {
      for (const w of slow) if (isOpen(w)) w.socket.write('X-Slow: 1\r\n');
    }, 100);
    try {
      const flood = [...idle, ...slow];
      // Never more open at once than the limit: the oldest unused connections were closed (the
      // client learns it once the server has handled the flood).
      await until('the flood trimmed to the limit', () => flood.filter(isOpen).length < LIMIT && idle.slice(0, LIMIT).every((w) => !isOpen(w)));
      expect(flood.filter(isOpen).length).toBeLessThan(LIMIT);
      expect(idle.slice(0, LIMIT).filter(isOpen)).toEqual([]);

      // New clients are answered at once, while the flood goes on.
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await flagsRequest(false));
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(JSON.parse(a.body).flags.always.enabled).toBe(true);
      }
      // A few ms each on a busy 2-core machine; the median keeps one scheduling hiccup from failing it.
      expect(answers.map((a) => a.ms).sort((a, b) => a - b)[2]).toBeLessThan(100);
      // The established keep-alive connection was not sacrificed to the flood.
      const again = await flagsRequest(sdk);
      expect(again.status).toBe(200);
      expect(again.reused).toBe(true);
      console.log('/flags during the flood, ms:', answers.map((a) => a.ms.toFixed(1)).join(', '));
    } finally {
      clearInterval(trickle);
      sdk.destroy();
      for (const w of [...idle, ...slow]) w.socket.destroy();
    }
  });

  it('when every connection is in the middle of a request, a new connection is closed and none of them', async () => {
    // The server has read each request's headers (it emits 'request'): all of them are in the middle of a request.
    let started = 0;
    const onRequest = () => started++;
    t.app.server.on('request', onRequest);
    const busy: Watched[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const w = await connect();
      w.socket.write('POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
      busy.push(w);
    }
    try {
      await until('every busy connection has started its request', () => started === LIMIT);
      const extra = await connect();
      await extra.closedAfter;
      expect(extra.received()).toBe('');
      expect(busy.filter(isOpen)).toHaveLength(LIMIT);
    } finally {
      t.app.server.off('request', onRequest);
      for (const w of busy) w.socket.destroy();
    }
  });
});

describe('timeouts', () => {
  beforeAll(() =>
    start({
      FLAGHOST_HEADERS_TIMEOUT_MS: HEADERS_MS,
      FLAGHOST_REQUEST_TIMEOUT_MS: REQUEST_MS,
      FLAGHOST_KEEP_ALIVE_TIMEOUT_MS: KEEP_ALIVE_MS,
      FLAGHOST_IDLE_TIMEOUT_MS: IDLE_MS,
    }),
  );

  it('a connection that never sends a complete request: 408 after the headers timeout', async () => {
    const started = performance.now();
    const silent = await connect(started);
    const slowloris = await connect(started);
    slowloris.socket.write('GET /flags HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => isOpen(slowloris) && slowloris.socket.write('X-Slow: 1\r\n'), 100);
    try {
      for (const w of [silent, slowloris]) {
        const closed = await w.closedAfter;
        expect(closed).toBeGreaterThanOrEqual(HEADERS_MS - 50);
        expect(closed).toBeLessThan(HEADERS_MS + SLACK_MS);
        expect(w.received()).toMatch(/^HTTP\/1\.1 408 /);
      }
    } finally {
      clearInterval(trickle);
    }
  });

  it('a body trickling in: 408 after the request timeout; a body that stops: closed after the idle timeout', async () => {
    const started = performance.now();
    const trickling = await connect(started);
    const stalled = await connect(started);
    const head = 'POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n';
    trickling.socket.write(head);
    stalled.socket.write(head + '{"api_key": "');
    const trickle = setInterval(() => isOpen(trickling) && trickling.socket.write('x'), 200);
    try {
      const stalledClosed = await stalled.closedAfter;
      expect(stalledClosed).toBeGreaterThanOrEqual(IDLE_MS - 50);
      expect(stalledClosed).toBeLessThan(IDLE_MS + SLACK_MS);
      expect(isOpen(trickling)).toBe(true); // still sending: not idle
      const tricklingClosed = await trickling.closedAfter;
      expect(tricklingClosed).toBeGreaterThanOrEqual(REQUEST_MS - 50);
      expect(tricklingClosed).toBeLessThan(REQUEST_MS + SLACK_MS);
      expect(trickling.received()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
    }
  });

  it('a keep-alive connection: closed after the keep-alive timeout once its answer is sent', async () => {
    const w = await connect();
    const body = JSON.stringify({ api_key: PROJECT_TOKEN, distinct_id: 'someone' });
    w.socket.write(`POST /flags?v=2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    while (!w.received().includes('"flags"')) await pause(10);
    const answered = performance.now();
    await w.closedAfter;
    const sinceAnswer = performance.now() - answered;
    expect(w.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(sinceAnswer).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
    expect(sinceAnswer).toBeLessThan(KEEP_ALIVE_MS + SLACK_MS);
  });
});
