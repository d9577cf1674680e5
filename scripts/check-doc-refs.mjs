#!/usr/bin/env node
// Keeps the code's references to documentation inside the repository (`npm run docs:check`, and
// test/app/doc-refs.test.ts). In src/, test/, bench/, web/ and scripts/ it reports:
//   - links to markdown files (`docs/<file>.md#<anchor>`, `README.md#<anchor>`, `bench/README.md`)
//     whose file or anchor does not exist, including a link's short continuations
//     (`docs/compatibility.md#api-3.2, #api-3.5`, `#case-76 to #case-79`);
//   - citations in the old bare style: a section sign, or a label `API <n>`, `SDK <n>`,
//     `case <n>`, `cases <n>–<m>` written without its link. Comments write the link
//     (docs/compatibility.md#api-3.6). Test titles may keep the short labels that
//     docs/compatibility.md defines, when the file links docs/compatibility.md, and each label must
//     exist there. A switch label (`case <n>:` as code) is not a citation;
//   - mentions of places outside the repository: absolute paths of a workstation, a sibling
//     folder of shared files, a specification document, an issue tracker's numbers;
//   - repository paths named in comments (`src/…`, `test/…`) that do not exist.
// CONTRIBUTING.md ("Comments point into docs/") states the rule.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCANNED_DIRS = ['src', 'test', 'bench', 'web', 'scripts'];
const SCANNED_FILES = /\.(?:ts|tsx|mts|cts|js|mjs|cjs)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'results', '.git']);
/** The checker's own test: its fixtures are broken references on purpose. */
const SKIPPED_FILES = new Set(['test/app/doc-refs.test.ts']);
/** Paths a comment may name that are generated, not committed. */
const GENERATED = [/^bench\/results\//, /^dist\//, /^test-output\//, /^data\//];
const COMPAT = 'docs/compatibility.md';
const SECTION = '\u00a7';

// ---- anchors -----------------------------------------------------------------------------------

/** GitHub's heading id: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(text) {
  return text
    .replace(/<[^>]*>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Every id a link may name in a markdown text: explicit `id`/`name` attributes and heading ids. */
export function markdownAnchors(text) {
  const anchors = new Set();
  for (const m of text.matchAll(/\b(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  const seen = new Map();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = headingSlug(heading[1]);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n ? `${slug}-${n}` : slug);
  }
  return anchors;
}

// ---- one file ----------------------------------------------------------------------------------

/** A link into a markdown file of the repo, with its continuations (`, #api-3.5`, `to #case-79`). */
const LINK = /(?<![\w/.-])((?:[\w-]+\/)*[\w-]+\.md)(?:#([\w.-]*[\w]))?((?:\s*(?:,|;|and|or|to|–)\s*#[\w.-]*[\w])*)/g;
/** A fragment of docs/compatibility.md written without its file (checked against that file). */
const STRAY_FRAGMENT = /(?<![\w.-])#((?:api|sdk|case|diff)-[\w.-]*[\w])/g;
/** `API <n>`, `SDK <n>` (also with the word spec or a section sign): labels of docs/compatibility.md. */
const LABEL = new RegExp(`\\b(API|SDK)(?:\\s+spec)?\\s+${SECTION}?\\s*(\\d+(?:\\.\\d+)*)\\b`, 'g');
/** Acceptance-case labels: one number, a range, a list (`,` `/` `and` `to`). */
const CASES = /\b([Cc]ases?)\s+(\d+(?:\s*(?:[–/,]|-(?=\d)|and|to)\s*\d+)*)/g;
/** What may precede a switch label on its line: indentation, `{`, `;`, earlier labels. */
const BEFORE_SWITCH_LABEL = /^(?:\s*(?:[{;]|case\s+\d+\s*:))*\s*$/;
/** Places outside the repository. */
const OUTSIDE = [
  [/(?<![\w.-])\/work\//g, 'an absolute path of the machine the code was written on'],
  [/\.\.\/shared\b/g, 'a folder beside the repository'],
  [/\bthe\s+spec\b|\bSDK\s+spec\b|\bspec\s*\u00a7/gi, 'a specification that is not in the repository'],
  [/\bARCHITECTURE\.md\b/g, 'a design document that is not in the repository (docs/architecture.md is)'],
  [/\bissues?\s+#?\d+/gi, "an issue tracker's numbering"],
];
/** Repository paths in comments. */
const REPO_PATH = /(?<![\w./-])((?:src|test|bench|docs|web|scripts|migrations|openapi|bin)\/[\w./-]*\w\.(?:ts|tsx|md|mjs|cjs|js|json|sql|html|css))\b/g;
/** The title string of `it(…)`, `test(…)`, `describe(…)` (and `.each`, `.skipIf(…)`, …). */
const TITLE =
  /\b(?:it|test|describe|bench)(?:\.(?:each|only|skip|todo|concurrent|sequential|fails)|\.(?:skipIf|runIf)\([^)]*\))*\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g;

/** A switch label in code, not a citation in a comment. */
function isSwitchLabel(line, match, commentAt) {
  if (match[1] !== 'case' || !/^\d+$/.test(match[2])) return false;
  if (commentAt >= 0 && match.index >= commentAt) return false;
  return BEFORE_SWITCH_LABEL.test(line.slice(0, match.index)) && /^\s*:/.test(line.slice(match.index + match[0].length));
}

/** Where a line's comment starts (whole line, inside a block, or after code); -1 when it has none. */
function commentStart(line, inBlock) {
  if (inBlock) return 0;
  const trimmed = line.trimStart();
  if (trimmed.startsWith('//') || trimmed.startsWith('/*') || trimmed.startsWith('*')) return line.length - trimmed.length;
  const trailing = line.search(/\s\/\/\s|\s\/\*\s/);
  return trailing < 0 ? -1 : trailing + 1;
}

/**
 * The findings of one file's text. `exists(path)` and `anchorsOf(path)` answer for repository
 * paths (relative to the root, forward slashes).
 */
export function checkText(file, text, { exists, anchorsOf }) {
  const findings = [];
  const add = (line, kind, snippet, message) => findings.push({ file, line, kind, text: snippet, message });
  const isTest = file.startsWith('test/');
  const linksCompat = text.includes(COMPAT);
  let inBlock = false;

  const checkAnchor = (line, target, anchor, snippet) => {
    if (!exists(target)) return add(line, 'missing-file', snippet, `${target} does not exist`);
    if (anchor !== undefined && !anchorsOf(target).has(anchor)) add(line, 'missing-anchor', snippet, `${target} has no anchor #${anchor}`);
  };

  text.split('\n').forEach((line, index) => {
    const n = index + 1;
    const start = commentStart(line, inBlock);
    const comment = start < 0 ? '' : line.slice(start);
    // Block comments: a line opening one without closing it puts the next lines inside.
    if (inBlock) inBlock = !line.includes('*/');
    else if (start >= 0 && /\/\*/.test(comment) && !comment.slice(comment.indexOf('/*') + 2).includes('*/')) inBlock = true;

    const titles = [];
    if (isTest) for (const m of line.matchAll(TITLE)) titles.push([m.index + m[0].length - m[2].length - 1, m.index + m[0].length - 1]);
    const inTitle = (i) => titles.some(([from, to]) => i >= from && i < to);

    // Links and their continuations.
    const consumed = [];
    for (const m of line.matchAll(LINK)) {
      const [whole, target, anchor, more] = m;
      consumed.push([m.index, m.index + whole.length]);
      checkAnchor(n, target, anchor, whole);
      for (const c of more.matchAll(/#([\w.-]*[\w])/g)) checkAnchor(n, target, c[1], whole);
    }
    for (const m of line.matchAll(STRAY_FRAGMENT)) {
      if (consumed.some(([from, to]) => m.index >= from && m.index < to)) continue;
      checkAnchor(n, COMPAT, m[1], m[0]);
    }

    // Bare citations.
    const labelled = [];
    for (const m of line.matchAll(LABEL)) {
      labelled.push([m.index, m.index + m[0].length]);
      const anchor = `${m[1].toLowerCase()}-${m[2]}`;
      if (isTest && inTitle(m.index) && !m[0].includes(SECTION)) {
        if (!linksCompat) add(n, 'unlinked-label', m[0], `test titles may use "${m[0]}" when the file links ${COMPAT} (e.g. in its header comment)`);
        checkAnchor(n, COMPAT, anchor, m[0]);
      } else add(n, 'bare-citation', m[0], `write ${COMPAT}#${anchor}`);
    }
    for (let i = line.indexOf(SECTION); i >= 0; i = line.indexOf(SECTION, i + 1)) {
      if (labelled.some(([from, to]) => i >= from && i < to)) continue;
      add(
        n,
        'bare-citation',
        line.slice(Math.max(0, i - 8), i + 8).trim(),
        `a section sign cites a numbering without a link: write ${COMPAT}#api-<n> (or another docs/ link)`,
      );
    }
    for (const m of line.matchAll(CASES)) {
      if (isSwitchLabel(line, m, start) && !inTitle(m.index)) continue;
      const numbers = m[2].match(/\d+/g);
      if (isTest && inTitle(m.index)) {
        if (!linksCompat) add(n, 'unlinked-label', m[0], `test titles may use "${m[0]}" when the file links ${COMPAT} (e.g. in its header comment)`);
        for (const num of numbers) checkAnchor(n, COMPAT, `case-${num}`, m[0]);
      } else add(n, 'bare-citation', m[0], `write ${COMPAT}#case-${numbers[0]}${numbers.length > 1 ? ` (and #case-… for the others)` : ''}`);
    }

    // Places outside the repository, anywhere on the line.
    for (const [pattern, what] of OUTSIDE) {
      for (const m of line.matchAll(pattern)) add(n, 'outside-repo', m[0], `names ${what}: point into docs/ instead`);
    }

    // Repository paths named in comments.
    if (comment) {
      for (const m of comment.matchAll(REPO_PATH)) {
        const p = m[1];
        if (GENERATED.some((g) => g.test(p)) || p.endsWith('.md')) continue; // .md files are checked as links
        if (exists(p) || (p.endsWith('.js') && (exists(p.replace(/\.js$/, '.ts')) || exists(p.replace(/\.js$/, '.tsx'))))) continue;
        add(n, 'missing-path', p, `${p} does not exist`);
      }
    }
  });
  return findings;
}

// ---- the repository ----------------------------------------------------------------------------

function* walk(root, dir) {
  const full = path.join(root, dir);
  if (!fs.existsSync(full)) return;
  for (const entry of fs.readdirSync(full, { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* walk(root, rel);
    } else if (entry.isFile() && SCANNED_FILES.test(entry.name) && !SKIPPED_FILES.has(rel)) yield rel;
  }
}

/** Every finding in the repository at `root`, sorted by file and line. */
export function checkDocRefs(root) {
  const anchors = new Map();
  const exists = (p) => fs.existsSync(path.join(root, p));
  const anchorsOf = (p) => {
    let set = anchors.get(p);
    if (!set) anchors.set(p, (set = markdownAnchors(fs.readFileSync(path.join(root, p), 'utf8'))));
    return set;
  };
  const findings = [];
  for (const dir of SCANNED_DIRS) {
    for (const file of walk(root, dir)) findings.push(...checkText(file, fs.readFileSync(path.join(root, file), 'utf8'), { exists, anchorsOf }));
  }
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

export function formatFinding(f) {
  return `${f.file}:${f.line}: ${f.kind}: "${f.text}": ${f.message}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const findings = checkDocRefs(root);
  for (const f of findings) console.log(formatFinding(f));
  if (findings.length) {
    console.log(`\n${findings.length} reference${findings.length === 1 ? '' : 's'} to fix (CONTRIBUTING.md, "Comments point into docs/").`);
    process.exit(1);
  }
  console.log('docs:check: every documentation reference in the code resolves inside the repository.');
}
