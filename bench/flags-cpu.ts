// `npx tsx bench/flags-cpu.ts`: the /flags work of one answer without HTTP, in a tight loop (see
// bench/README.md). The benchmark's 1,000-flag project is compiled in memory, and the benchmark's
// request bodies (4,096 distinct ids) are decoded, evaluated and rendered by the functions the hot
// path calls. Prints ns per answer (and per flag) for all flags, 50 named of 1,000, and 50 of 50.
// Under `valgrind --tool=callgrind` or `perf stat -e instructions` it counts work independently of
// the machine's load. FLAGS_CPU_TRIALS (default 15) trials of FLAGS_CPU_ANSWERS
// (default 2,000; a tenth for flags-1000) answers; FLAGS_CPU_ONLY: comma-separated scenarios.
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

interface Scenario {
  name: string;
  flagsPerAnswer: number;
  answers: number;
  once: (i: number) => number;
  /** ns per answer of each trial. */
  trials: number[];
}

function scenario(name: string, snapshot: ProjectSnapshot, bodies: Buffer[], answers: number, flagsPerAnswer: number): Scenario {
  const snapshots = { peekForToken: () => snapshot } as unknown as SnapshotStore;
  const once = (i: number): number => {
    const body = decodeSdkRequest(bodies[i % bodies.length], headers, query, 'flags');
    const answer = answerFlagsPost(ctx, snapshots, { endpoint: 'flags', body, query, headers }, log);
    if (answer instanceof Promise) throw new Error('the in-memory path answered with a promise');
    // As the hot path does once the answer is written.
    releaseAnswer(answer);
    return answer.length;
  };
  // Warm-up: every body once, so every result's bytes are cached as in a running server.
  for (let i = 0; i < bodies.length; i++) once(i);
  return { name, flagsPerAnswer, answers, once, trials: [] };
}

function trial(s: Scenario): void {
  const t0 = performance.now();
  for (let i = 0; i < s.answers; i++) s.once(i);
  s.trials.push(((performance.now() - t0) * 1e6) / s.answers);
}

const answers = Number(process.env.FLAGS_CPU_ANSWERS || 2_000);
const trials = Number(process.env.FLAGS_CPU_TRIALS || 15);
const only = process.env.FLAGS_CPU_ONLY?.split(',');
const encode = (bodies: string[]) => bodies.map((b) => Buffer.from(b));
const project1000 = snapshotOf(1000);
const project50 = snapshotOf(50);
const requested = Array.from({ length: 50 }, (_, i) => flagKey(i, 'p1'));
const scenarios: Scenario[] = [];
if (!only || only.includes('flags-50')) scenarios.push(scenario('flags-50', project50, encode(flagsRequestBodies(TOKEN, 4096)), answers, 50));
if (!only || only.includes('flags-50-of-1000'))
  scenarios.push(scenario('flags-50-of-1000', project1000, encode(flagsRequestBodies(TOKEN, 4096, requested)), answers, 50));
if (!only || only.includes('flags-1000'))
  scenarios.push(scenario('flags-1000', project1000, encode(flagsRequestBodies(TOKEN, 4096)), Math.ceil(answers / 10), 1000));

// Scenarios alternate trial by trial, so that a busy moment of the machine hits them alike; the
// fastest trial is the figure least disturbed by other work, the median the typical one.
const usage0 = process.resourceUsage();
for (let t = 0; t < trials; t++) for (const s of scenarios) trial(s);
const usage = process.resourceUsage();
const byName = new Map<string, number>();
for (const s of scenarios) {
  const sorted = [...s.trials].sort((a, b) => a - b);
  const min = sorted[0];
  const median = sorted[Math.floor(sorted.length / 2)];
  byName.set(s.name, min);
  console.log(
    `${s.name.padEnd(18)} min ${min.toFixed(0).padStart(8)} ns/answer (${(min / s.flagsPerAnswer).toFixed(1)} ns/flag)  median ${median.toFixed(0).padStart(8)} ns/answer`,
  );
}
if (byName.has('flags-50') && byName.has('flags-50-of-1000')) {
  console.log(`50 named of 1,000 ÷ 50 of 50 (fastest trials): ${(byName.get('flags-50-of-1000')! / byName.get('flags-50')!).toFixed(2)}×`);
}
const total = trials * scenarios.reduce((n, s) => n + s.answers, 0);
console.log(`page faults per answer: ${((usage.minorPageFault - usage0.minorPageFault) / total).toFixed(2)}`);
