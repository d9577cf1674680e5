// Logs after a database failure: real database errors whose parameters hold tokens, logged by the
// app's own loggers (Fastify's request logger, the app logger the ingestion and the hot path use),
// never show a token, a key, the payload secret or a query parameter, and no line exceeds the cap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/app.ts';
import { LOG_LINE_MAX_BYTES } from '../../src/platform/log-redaction.ts';
import { insertProject } from '../../src/access/organizations/projects-repository.ts';
import { generateSecretToken } from '../../src/access/tokens.ts';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, SECRET_TOKEN, type TestApp } from '../helpers/app.ts';

const lines: string[] = [];
let t: TestApp;
/** An app whose log lines go to `into`. */
const appLoggingTo = (into: string[]) => createTestApp({ logger: { ...loggerOptions('info'), stream: { write: (line: string) => void into.push(line) } } });
const UNKNOWN_SECRET = 'phs_unknownsecret0000000000000000000000000';
const PAYLOAD_SECRET = 'test-secret-key-0123456789abcdef';

beforeAll(async () => {
  t = await appLoggingTo(lines);
});
afterAll(async () => {
  await t?.close();
});

const parsed = (from = lines) => from.map((l) => JSON.parse(l) as Record<string, any>);

function expectClean(secrets: string[], from = lines): void {
  expect(from.length).toBeGreaterThan(0);
  for (const line of from) {
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(LOG_LINE_MAX_BYTES);
    expect(line.endsWith('\n')).toBe(true);
    for (const secret of secrets) expect(line).not.toContain(secret);
    expect(line).not.toMatch(/\bph[csx]_[A-Za-z0-9]{4}/);
    expect(line).not.toContain('params:');
  }
}

// The outage test takes the database down for good: it runs last, also when CI shuffles.
describe('log lines', { shuffle: false }, () => {
  it('a failed insert whose parameters hold tokens and 3 MB of text: logged without them, under the cap', async () => {
    lines.length = 0;
    const secret = generateSecretToken();
    const from = lines.length; // lines the other test (an outage) logged before this one started
    let failure: unknown;
    try {
      // A second project with project 1's token: a unique violation that quotes the token in its detail.
      await insertProject(t.ctx.db, {
        organizationId: t.boot.organization.id,
        name: `big ${'x'.repeat(3_000_000)} ${secret}`,
        apiToken: PROJECT_TOKEN,
        secretApiToken: secret,
      });
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(Error);
    // The error really holds what must not be logged.
    expect(String((failure as Error).message)).toContain(secret);
    expect(String((failure as Error).message).length).toBeGreaterThan(3_000_000);

    t.app.log.error({ err: failure, projectId: 1 }, 'capture: events could not be stored');
    t.app.log.error(failure as Error);
    t.app.log.warn(
      {
        attempt: { request: { headers: { authorization: `Bearer ${ADMIN_KEY}`, cookie: 'session=abc' } }, tokens: [SECRET_TOKEN, `key=${ADMIN_KEY}`] },
        note: `secret is ${PAYLOAD_SECRET}`,
      },
      `retrying with ${SECRET_TOKEN}`,
    );
    t.app.log.error({ err: new Error(`unexpected value ${ADMIN_KEY} in ${'y'.repeat(100_000)}`) }, 'boom');

    expectClean([secret, SECRET_TOKEN, PROJECT_TOKEN, ADMIN_KEY, PAYLOAD_SECRET, 'session=abc']);
    const logged = parsed()
      .slice(from)
      .filter((l) => l.err?.type === 'DrizzleQueryError');
    expect(logged).toHaveLength(2);
    for (const line of logged) {
      expect(line.err.message).toMatch(/^Failed query: insert into "projects"/);
      expect(line.err.cause.code).toBe('23505');
      expect(line.err.cause.detail).toMatch(/^Key \(api_token\)=\(phc_\[redacted\]\) already exists\.$/);
    }
    const warn = parsed().find((l) => l.level === 40)!;
    expect(warn.msg).toBe('retrying with phs_[redacted]');
    expect(warn.attempt.request.headers).toEqual({ authorization: '[redacted]', cookie: '[redacted]' });
    expect(warn.attempt.tokens).toEqual(['phs_[redacted]', 'key=phx_[redacted]']);
    expect(warn.note).toBe('secret is [redacted]');
  });

  it('during an outage: requests authenticated with tokens fail and are logged without them', async () => {
    // An app of its own, whose database this test closes.
    const outageLines: string[] = [];
    const down = await appLoggingTo(outageLines);
    // Closed here; closing the app afterwards (which also drops a PostgreSQL test database) must not fail.
    const close = down.database.close.bind(down.database);
    let closed: Promise<void> | undefined;
    down.database.close = () => (closed ??= close());
    try {
      await down.database.close();
      const res = await down.http.get('/api/feature_flag/local_evaluation').set('Authorization', `Bearer ${UNKNOWN_SECRET}`);
      expect(res.status).toBeGreaterThanOrEqual(500);
      const capture = await down.http
        .post('/batch/')
        .send({ api_key: PROJECT_TOKEN, batch: [{ event: 'x', distinct_id: 'u1', properties: { leaked: SECRET_TOKEN, big: 'z'.repeat(200_000) } }] });
      expect(capture.status).toBeGreaterThanOrEqual(500);
      await down.http.get(`/flags/definitions?token=${PROJECT_TOKEN}&personal_api_key=${ADMIN_KEY}`).set('Authorization', `Bearer ${UNKNOWN_SECRET}`);

      expectClean([UNKNOWN_SECRET, SECRET_TOKEN, PROJECT_TOKEN, ADMIN_KEY], outageLines);
      // The failures were logged (with the statement that failed), just not the values.
      expect(parsed(outageLines).some((l) => l.level >= 50 && /secret_api_token/.test(JSON.stringify(l.err ?? {})))).toBe(true);
    } finally {
      await down.close();
    }
  });
});
