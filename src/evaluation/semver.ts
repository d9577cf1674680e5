// Semantic versions and requirements with the Rust flags service's semantics (semver crate).
import { memoizeString, stringify } from './values.js';

export interface Version {
  major: number;
  minor: number;
  patch: number;
  pre: string[];
  build: string[];
}

const CORE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const PRE_IDENT = /^(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)$/;
const BUILD_IDENT = /^[0-9A-Za-z-]+$/;
const DIGITS = /^\d+$/;

/** Strip one leading lowercase `v`, then surrounding whitespace (`normalize_version_string`). */
export function normalizeVersionText(text: string): string {
  return (text.startsWith('v') ? text.slice(1) : text).trim();
}

function stripLeadingZeros(part: string): string {
  if (part === '' || !DIGITS.test(part)) return part;
  const trimmed = part.replace(/^0+/, '');
  return trimmed === '' ? '0' : trimmed;
}

/** Pad to three components and strip leading zeros from the numeric core only. */
export function canonicalizeVersionText(text: string): string {
  const cut = text.search(/[-+]/);
  const core = cut === -1 ? text : text.slice(0, cut);
  const suffix = cut === -1 ? '' : text.slice(cut);
  const parts = core.split('.').map(stripLeadingZeros);
  while (parts.length < 3) parts.push('0');
  return parts.join('.') + suffix;
}

function parseStrict(text: string): Version | undefined {
  let rest = text;
  let build: string[] = [];
  const plus = rest.indexOf('+');
  if (plus !== -1) {
    build = rest.slice(plus + 1).split('.');
    if (!build.every((id) => BUILD_IDENT.test(id))) return undefined;
    rest = rest.slice(0, plus);
  }
  let pre: string[] = [];
  const dash = rest.indexOf('-');
  if (dash !== -1) {
    pre = rest.slice(dash + 1).split('.');
    if (!pre.every((id) => PRE_IDENT.test(id))) return undefined;
    rest = rest.slice(0, dash);
  }
  const m = CORE.exec(rest);
  if (!m) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3]);
  if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || !Number.isSafeInteger(patch)) return undefined;
  return { major, minor, patch, pre, build };
}

const parseVersionText = memoizeString((text: string) => parseStrict(canonicalizeVersionText(normalizeVersionText(text))));

/** `to_semver_representation`: stringify, normalize, canonicalize, strict parse. */
export function parseVersion(value: unknown): Version | undefined {
  return parseVersionText(stringify(value));
}

function compareNumericText(a: string, b: string): number {
  const at = a.replace(/^0+/, '');
  const bt = b.replace(/^0+/, '');
  if (at.length !== bt.length) return at.length < bt.length ? -1 : 1;
  if (at !== bt) return at < bt ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareText(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/**
 * Dot-separated identifiers in order: numeric ones numerically and before alphanumeric ones,
 * then the longer list last. `emptyOrder` is where an empty list sorts against a non-empty one.
 */
function compareIdentifiers(a: string[], b: string[], emptyOrder: 1 | -1): number {
  if (a.length === 0 || b.length === 0) {
    if (a.length === b.length) return 0;
    return a.length === 0 ? emptyOrder : -emptyOrder;
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    const xNum = DIGITS.test(x);
    const yNum = DIGITS.test(y);
    let c: number;
    if (xNum && yNum) c = compareNumericText(x, y);
    else if (xNum) c = -1;
    else if (yNum) c = 1;
    else c = compareText(x, y);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Pre-release order: a release (no identifiers) sorts after any pre-release. */
export function comparePre(a: string[], b: string[]): number {
  return compareIdentifiers(a, b, 1);
}

// The semver crate orders build metadata too (a deviation from SemVer that the server inherits):
// no build metadata sorts first.
function compareBuild(a: string[], b: string[]): number {
  return compareIdentifiers(a, b, -1);
}

export function compareVersions(a: Version, b: Version): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  const pre = comparePre(a.pre, b.pre);
  if (pre !== 0) return pre;
  return compareBuild(a.build, b.build);
}

/** A single comparator of a semver requirement; `minor`/`patch` are null when omitted. */
interface Comparator {
  op: 'tilde' | 'caret' | 'wildcard';
  major: number;
  minor: number | null;
  patch: number | null;
  pre: string[];
}

/** A requirement; `null` comparator means `*` (any release version). */
export interface Requirement {
  comparator: Comparator | null;
}

const REQ_PART = /^(?:0|[1-9]\d*|[xX*])$/;

function parseRequirementText(op: '~' | '^' | '', text: string): Requirement | undefined {
  if (text.includes('+')) return undefined;
  let core = text;
  let pre: string[] = [];
  const dash = text.indexOf('-');
  if (dash !== -1) {
    pre = text.slice(dash + 1).split('.');
    if (!pre.every((id) => PRE_IDENT.test(id))) return undefined;
    core = text.slice(0, dash);
  }
  const parts = core.split('.');
  if (parts.length > 3 || !parts.every((p) => REQ_PART.test(p))) return undefined;
  const isWild = (p: string) => p === 'x' || p === 'X' || p === '*';
  const firstWild = parts.findIndex(isWild);
  if (firstWild !== -1 && !parts.slice(firstWild).every(isWild)) return undefined;
  if (firstWild !== -1 && pre.length > 0) return undefined;
  const numbers = (firstWild === -1 ? parts : parts.slice(0, firstWild)).map(Number);
  if (!numbers.every(Number.isSafeInteger)) return undefined;
  if (numbers.length === 0) {
    // `*` / `x`: no comparator at all; `~*` and `^*` are not valid requirements
    return op === '' ? { comparator: null } : undefined;
  }
  const comparator: Comparator = {
    op: firstWild !== -1 ? 'wildcard' : op === '~' ? 'tilde' : 'caret',
    major: numbers[0],
    minor: numbers.length > 1 ? numbers[1] : null,
    patch: numbers.length > 2 ? numbers[2] : null,
    pre,
  };
  if (firstWild !== -1 && op !== '') {
    // `~1.x` and `^1.x` behave like the wildcard in the semver crate; only the bare form is used here.
    comparator.op = 'wildcard';
  }
  return { comparator };
}

/** Requirement for `semver_tilde` / `semver_caret` / `semver_wildcard` filter values. */
export function parseRequirement(operator: 'semver_tilde' | 'semver_caret' | 'semver_wildcard', value: unknown): Requirement | undefined {
  const normalized = normalizeVersionText(stringify(value));
  if (operator === 'semver_tilde') return parseRequirementText('~', canonicalizeVersionText(normalized));
  if (operator === 'semver_caret') return parseRequirementText('^', canonicalizeVersionText(normalized));
  // wildcard: strip leading zeros per component, `*` → `x`; no padding (the `*` supplies it).
  // Without any `*` the semver crate reads the text as a caret requirement.
  const text = normalized.split('.').map(stripLeadingZeros).join('.');
  return parseRequirementText('', text);
}

function matchesComparator(c: Comparator, v: Version): boolean {
  if (v.major !== c.major) return false;
  switch (c.op) {
    case 'wildcard':
      if (c.minor !== null && v.minor !== c.minor) return false;
      if (c.patch !== null && v.patch !== c.patch) return false;
      return comparePre(v.pre, c.pre) === 0;
    case 'tilde':
      if (c.minor !== null && v.minor !== c.minor) return false;
      if (c.patch !== null && v.patch !== c.patch) return v.patch > c.patch;
      return comparePre(v.pre, c.pre) >= 0;
    case 'caret': {
      if (c.minor === null) return true;
      if (c.patch === null) return c.major > 0 ? v.minor >= c.minor : v.minor === c.minor;
      if (c.major > 0) {
        if (v.minor !== c.minor) return v.minor > c.minor;
        if (v.patch !== c.patch) return v.patch > c.patch;
      } else if (c.minor > 0) {
        if (v.minor !== c.minor) return false;
        if (v.patch !== c.patch) return v.patch > c.patch;
      } else if (v.minor !== c.minor || v.patch !== c.patch) {
        return false;
      }
      return comparePre(v.pre, c.pre) >= 0;
    }
  }
}

/**
 * `VersionReq::matches`: a pre-release version only matches when a comparator names the
 * same major.minor.patch with a pre-release of its own (so `~1.2.3` rejects `1.2.4-beta`).
 */
export function satisfies(req: Requirement, v: Version): boolean {
  const c = req.comparator;
  if (v.pre.length > 0) {
    if (!c || c.pre.length === 0 || c.major !== v.major || c.minor !== v.minor || c.patch !== v.patch) return false;
  }
  return c === null ? true : matchesComparator(c, v);
}
