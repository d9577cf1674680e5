// Self time per function in a V8 .cpuprofile (node --cpu-prof), restricted to a time window.
// V8's sample timestamps and process.hrtime share the monotonic clock (µs), so the parent's
// measured-run window selects the samples of one scenario.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

interface CpuProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  function: string;
  location: string;
  /** The source line a TypeScript function starts on (to tell anonymous functions apart). */
  text?: string;
  percent: number;
  ms: number;
}

export interface ProfileSummary {
  samples: number;
  /** Share of samples the process was idle (waiting for I/O). */
  idlePercent: number;
  /** Top functions by self time, idle excluded; percentages of all samples in the window. */
  top: SelfTime[];
}

export function readProfile(dir: string): CpuProfile | undefined {
  if (!fs.existsSync(dir)) return undefined;
  // One file per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile): the tsx loader hooks
  // run on a thread of their own; requests are served by the main thread, number 0.
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const main = files.find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files[0];
  return main ? (JSON.parse(fs.readFileSync(path.join(dir, main), 'utf8')) as CpuProfile) : undefined;
}

// tsx runs src/*.ts as esbuild output with all whitespace removed: every function is on line 1.
// Transforming the same source with tsx's options reproduces that code and its source map, which
// turns a profile position back into a line of the TypeScript file (and its text). The compiled
// server (dist/server.js, BENCH_SERVER=dist) has its source map next to it.

interface Transformer {
  transformSync(code: string, options: Record<string, unknown>): { code: string; map: string };
}

/** The sources flaghost was started with (src/ may be edited while the benchmark runs). */
export type SourceSnapshot = Map<string, string>;

export function snapshotSources(root: string): SourceSnapshot {
  const out: SourceSnapshot = new Map();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) out.set(full, fs.readFileSync(full, 'utf8'));
    }
  };
  walk(path.join(root, 'src'));
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes a source map's mappings: per generated line, [generatedColumn, sourceLine, sourceIndex]. */
function decodeMappings(mappings: string): Array<Array<[number, number, number]>> {
  const lines: Array<Array<[number, number, number]>> = [];
  let sourceLine = 0;
  let source = 0;
  for (const lineText of mappings.split(';')) {
    const segments: Array<[number, number, number]> = [];
    let column = 0;
    for (const seg of lineText.split(',')) {
      if (!seg) continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += values[0];
      if (values.length >= 4) {
        source += values[1];
        sourceLine += values[2];
        segments.push([column, sourceLine, source]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

interface Mapped {
  lines: Array<Array<[number, number, number]>>;
  /** Absolute paths of the map's sources (one, the file itself, for a tsx transform). */
  sources: string[];
}

export class SourceMapper {
  private readonly cache = new Map<string, Mapped | null>();
  private readonly esbuild?: Transformer;

  constructor(
    private readonly root: string,
    private readonly sources: SourceSnapshot,
  ) {
    try {
      const fromTsx = createRequire(path.join(root, 'node_modules/tsx/package.json'));
      this.esbuild = fromTsx('esbuild') as Transformer;
    } catch {
      this.esbuild = undefined;
    }
  }

  private mapped(file: string): Mapped | null {
    if (this.cache.has(file)) return this.cache.get(file)!;
    let result: Mapped | null = null;
    const source = this.sources.get(file);
    if (source !== undefined && this.esbuild) {
      try {
        const out = this.esbuild.transformSync(source, {
          target: `node${process.versions.node}`,
          loader: 'ts',
          format: 'esm',
          sourcemap: true,
          sourcesContent: false,
          minifyWhitespace: true,
          keepNames: true,
          sourcefile: file,
        });
        result = { lines: decodeMappings((JSON.parse(out.map) as { mappings: string }).mappings), sources: [file] };
      } catch {
        result = null;
      }
    }
    this.cache.set(file, result);
    return result;
  }

  /** A compiled bundle's own source map (`file.js.map`), when there is one. */
  private bundleMap(file: string): Mapped | null {
    if (this.cache.has(file)) return this.cache.get(file)!;
    let result: Mapped | null = null;
    try {
      const map = JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as { mappings: string; sources: string[] };
      result = { lines: decodeMappings(map.mappings), sources: map.sources.map((s) => path.resolve(path.dirname(file), s)) };
    } catch {
      result = null;
    }
    this.cache.set(file, result);
    return result;
  }

  private readonly lineCache = new Map<string, string[]>();

  private sourceLines(file: string): string[] {
    let lines = this.lineCache.get(file);
    if (!lines) {
      lines = (this.sources.get(file) ?? (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '')).split('\n');
      this.lineCache.set(file, lines);
    }
    return lines;
  }

  /** `path:line` (1-based, relative to the repository) and, for src/ files, the line's text. */
  locate(url: string, line: number, column: number): { location: string; text?: string } {
    if (!url) return { location: '' };
    const file = url.replace(/^file:\/\//, '');
    let rel = file.startsWith(this.root) ? file.slice(this.root.length + 1) : file;
    rel = rel.replace(/^node_modules\//, '');
    const compiled = file.startsWith(path.join(this.root, 'dist') + path.sep) && file.endsWith('.js');
    const m = file.endsWith('.ts') ? this.mapped(file) : compiled ? this.bundleMap(file) : null;
    const segments = m?.lines[line];
    if (!m || !segments?.length) return { location: `${rel}:${line + 1}${file.endsWith('.ts') || compiled ? `:${column + 1}` : ''}` };
    let [, sourceLine, source] = segments[0];
    for (const [col, srcLine, srcIndex] of segments) {
      if (col > column) break;
      sourceLine = srcLine;
      source = srcIndex;
    }
    const sourceFile = m.sources[source] ?? file;
    return { location: `${path.relative(this.root, sourceFile)}:${sourceLine + 1}`, text: this.sourceLines(sourceFile)[sourceLine]?.trim().slice(0, 70) };
  }
}

export function summarize(profile: CpuProfile, windowsUs: Array<[number, number]>, mapper: SourceMapper, topN = 15): ProfileSummary {
  const inWindow = (t: number) => windowsUs.some(([a, b]) => t >= a && t <= b);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { fn: string; loc: string; text?: string; us: number; count: number }>();
  let t = profile.startTime;
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (!inWindow(t)) continue;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    total++;
    const fn = node.callFrame.functionName || '(anonymous)';
    if (fn === '(idle)') {
      idle++;
      continue;
    }
    const { location: loc, text } = mapper.locate(node.callFrame.url, node.callFrame.lineNumber, node.callFrame.columnNumber);
    const key = `${fn}\u0000${loc}`;
    const entry = self.get(key) ?? { fn, loc, text, us: 0, count: 0 };
    entry.count++;
    entry.us += Math.max(0, profile.timeDeltas[i + 1] ?? delta);
    self.set(key, entry);
  }
  const top = [...self.values()]
    .sort((a, b) => b.count - a.count)
    .slice(0, topN)
    .map((e) => ({ function: e.fn, location: e.loc, text: e.text, percent: total ? (100 * e.count) / total : 0, ms: e.us / 1000 }));
  return { samples: total, idlePercent: total ? (100 * idle) / total : 0, top };
}

/** The profile's samples (their nodes' ids) taken inside the windows, in time order. */
function* samplesIn(profile: CpuProfile, windowsUs: Array<[number, number]>): Generator<number> {
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (windowsUs.some(([a, b]) => t >= a && t <= b)) yield profile.samples[i];
  }
}

/** Self time grouped by where the code lives: a package, a src/ folder, WebAssembly, GC, native. */
export function summarizeByArea(profile: CpuProfile, windowsUs: Array<[number, number]>, mapper: SourceMapper): Array<{ area: string; percent: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<string, number>();
  let total = 0;
  for (const id of samplesIn(profile, windowsUs)) {
    const node = byId.get(id);
    if (!node) continue;
    total++;
    const { functionName, url } = node.callFrame;
    let area: string;
    if (functionName === '(idle)') area = '(idle)';
    else if (functionName === '(garbage collector)') area = '(garbage collector)';
    else if (url.startsWith('wasm://')) area = 'WebAssembly (PGlite)';
    else if (!url) area = `native: ${functionName || '(anonymous)'}`;
    else {
      const { location } = mapper.locate(url, node.callFrame.lineNumber, node.callFrame.columnNumber);
      const src = /^src\/([^/]+)\//.exec(location);
      if (src) area = `src/${src[1]}`;
      else if (location.startsWith('node:')) area = 'node internals';
      else area = /^((?:@[^/]+\/)?[^/:]+)/.exec(location)?.[1] ?? location;
    }
    counts.set(area, (counts.get(area) ?? 0) + 1);
  }
  return [...counts]
    .map(([area, n]) => ({ area, percent: total ? (100 * n) / total : 0 }))
    .sort((a, b) => b.percent - a.percent)
    .slice(0, 12);
}

/**
 * Stretches of at least `minUs` in which every sample was busy (no idle sample between them): the
 * event-loop blocks, as the profile saw them, as [start, end] windows for summarize().
 */
export function busyWindows(profile: CpuProfile, minUs: number): Array<[number, number]> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out: Array<[number, number]> = [];
  let t = profile.startTime;
  let start: number | undefined;
  let last = t;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const idle = byId.get(profile.samples[i])?.callFrame.functionName === '(idle)';
    if (idle) {
      if (start !== undefined && last - start >= minUs) out.push([start, last]);
      start = undefined;
    } else {
      start ??= t;
      last = t;
    }
  }
  if (start !== undefined && last - start >= minUs) out.push([start, last]);
  return out;
}

/**
 * Samples in the windows attributed to the innermost frame of flaghost's own code (src/) on their
 * stack: which of flaghost's functions was running, whatever library or native code it called.
 */
export function summarizeBySrcFrame(
  profile: CpuProfile,
  windowsUs: Array<[number, number]>,
  mapper: SourceMapper,
  topN = 15,
): Array<{ frame: string; percent: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const frameOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = frameOf.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    let frame = '(outside src/)';
    if (node) {
      const { location } = mapper.locate(node.callFrame.url, node.callFrame.lineNumber, node.callFrame.columnNumber);
      if (location.startsWith('src/')) frame = `${node.callFrame.functionName || '(anonymous)'} ${location}`;
      else if (parent.has(id)) frame = resolve(parent.get(id)!);
    }
    frameOf.set(id, frame);
    return frame;
  };
  const counts = new Map<string, number>();
  let total = 0;
  for (const id of samplesIn(profile, windowsUs)) {
    total++;
    const frame = resolve(id);
    counts.set(frame, (counts.get(frame) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([frame, n]) => ({ frame, percent: total ? (100 * n) / total : 0 }));
}
