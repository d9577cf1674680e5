// `npx tsx bench/flags-cpu.ts`: the /flags work of one answer without HTTP, in a tight loop (see
// bench/README.md). The benchmark's 1,000-flag project is compiled in memory, and the benchmark's
// request bodies (4,096 distinct ids) are decoded, evaluated and rendered by the functions the hot
// path calls. Prints ns per answer (and per flag) for all flags, 50 named of 1,000, and 50 of 50.
// Under `valgrind --tool=callgrind` or `perf stat -e instructions` it counts work independently of
// the machine's load. FLAGS_CPU_ANSWERS (default 20,000) answers per scenario, FLAGS_CPU_ONLY one scenario.
import { performance } from 'node:perf_hooks';
import { compileProject, propertyReads, propertyReadsByFlag, type FlagDefinition } from '../src/evaluation/index.ts';
import type { AppContext } from '../src/platform/context.ts';
import { answerFlagsPost, type FlagsAnswerLog } from '../src/sdk/flags-answer.ts';
import { decodeSdkRequest } from '../src/sdk/body.ts';
import { releaseAnswer } from '../src/sdk/answer-buffers.ts';
import type { ProjectSnapshot, SnapshotStore } from '../src/sdk/snapshots.ts';
import { flagBody, flagKey, flagsRequestBodies, GROUP_TYPE } from './lib/flags.ts';

const TOKEN = 'phc_bench';

function snapshotOf(flagCount: number): ProjectSnapshot {
  const flags: FlagDefinition[] = Array.from({ length: flagCount }, (_, i) => {
    const body = flagBody(i, 'p1');
    return {
      id: i + 1,
      projectId: 1,
      key: body.key as string,
      name: body.name as string,
      active: true,
      deleted: false,
      filters: body.filters as Record<string, unknown>,
      ensureExperienceContinuity: false,
      hasEncryptedPayloads: false,
      version: 1,
      evaluationRuntime: 'all',
      bucketingIdentifier: 'distinct_id',
      evaluationTags: [],
      isRemoteConfiguration: false,
    };
  });
  const groupTypes = [{ groupType: GROUP_TYPE, groupTypeIndex: 0 }];
  const compiled = compileProject({ flags, cohorts: [], groupTypes });
  const byFlag = propertyReadsByFlag(flags, []);
  return {
    project: { id: 1 },
    compiled,
    groupTypes,
    groupTypeIndexByName: new Map([[GROUP_TYPE, 0]]),
    staticCohortIds: new Set(),
    reads: propertyReads(flags, []),
    flagReads: () => byFlag,
    continuityFlagKeys: [],
    usage: { flagsEvaluated: 0 },
  } as unknown as ProjectSnapshot;
}

const log: FlagsAnswerLog = {
  groupTypeRegistrationFailed: () => undefined,
  storedDataUnavailable: () => undefined,
};
const headers = { 'content-type': 'application/json', 'user-agent': 'posthog-node/5.70.0' };
const query = { v: '2' };
// Only the in-memory path runs here: nothing reads the database.
const ctx = { database: { health: { available: true } } } as unknown as AppContext;

function run(name: string, snapshot: ProjectSnapshot, bodies: Buffer[], answers: number, flagsPerAnswer: number): void {
  const snapshots = { peekForToken: () => snapshot } as unknown as SnapshotStore;
  let bytes = 0;
  const once = (i: number) => {
    const body = decodeSdkRequest(bodies[i % bodies.length], headers, query, 'flags');
    const answer = answerFlagsPost(ctx, snapshots, { endpoint: 'flags', body, query, headers }, log);
    if (answer instanceof Promise) throw new Error('the in-memory path answered with a promise');
    bytes += answer.length;
    // As the hot path does once the answer is written.
    releaseAnswer(answer);
  };
  // Warm-up: every body once, so every result's bytes are cached as in a running server.
  for (let i = 0; i < bodies.length; i++) once(i);
  bytes = 0;
  const usage0 = process.resourceUsage();
  const t0 = performance.now();
  for (let i = 0; i < answers; i++) once(i);
  const ns = ((performance.now() - t0) * 1e6) / answers;
  const usage = process.resourceUsage();
  const sysNs = ((usage.systemCPUTime - usage0.systemCPUTime) * 1000) / answers;
  const faults = (usage.minorPageFault - usage0.minorPageFault) / answers;
  console.log(
    `${name.padEnd(18)} ${ns.toFixed(0).padStart(8)} ns/answer  ${(ns / flagsPerAnswer).toFixed(1).padStart(6)} ns/flag  ` +
      `${Math.round(bytes / answers)} B/answer  system ${sysNs.toFixed(0)} ns/answer  ${faults.toFixed(1)} page faults/answer`,
  );
}

const answers = Number(process.env.FLAGS_CPU_ANSWERS || 20_000);
const only = process.env.FLAGS_CPU_ONLY;
const encode = (bodies: string[]) => bodies.map((b) => Buffer.from(b));
const project1000 = snapshotOf(1000);
const project50 = snapshotOf(50);
const requested = Array.from({ length: 50 }, (_, i) => flagKey(i, 'p1'));
const scenarios: Array<[string, ProjectSnapshot, Buffer[], number]> = [
  ['flags-50', project50, encode(flagsRequestBodies(TOKEN, 4096)), 50],
  ['flags-50-of-1000', project1000, encode(flagsRequestBodies(TOKEN, 4096, requested)), 50],
  ['flags-1000', project1000, encode(flagsRequestBodies(TOKEN, 4096)), 1000],
];
for (const [name, snapshot, bodies, flags] of scenarios) {
  if (only && only !== name) continue;
  run(name, snapshot, bodies, name === 'flags-1000' ? Math.ceil(answers / 10) : answers, flags);
}
