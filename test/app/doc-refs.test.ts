// Every reference from the code to documentation resolves inside the repository
// (scripts/check-doc-refs.mjs, `npm run docs:check`; the rule is in CONTRIBUTING.md), and the checker
// itself catches each kind of broken or outside reference while leaving `switch` labels alone.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkDocRefs, checkText, formatFinding, markdownAnchors } from '../../scripts/check-doc-refs.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('documentation references in the code', () => {
  it('all resolve inside the repository', () => {
    expect(checkDocRefs(ROOT).map(formatFinding)).toEqual([]);
  });
});

describe('the checker', () => {
  const docs: Record<string, string> = {
    'docs/compatibility.md':
      '# PostHog compatibility\n### <a id="api-7.1"></a>API 7.1 Status\n### <a id="case-70"></a>\n### <a id="case-71"></a>\n## Where it differs, and why\n',
    'README.md': '# flaghost\n## Access control\n## Access control\n',
  };
  const repo = {
    exists: (p: string) => p in docs || p === 'src/flags/status.ts',
    anchorsOf: (p: string) => markdownAnchors(docs[p]),
  };
  const check = (file: string, text: string) => checkText(file, text, repo).map((f) => `${f.line} ${f.kind} ${f.text}`);

  it('reads explicit anchors and GitHub heading ids, duplicates numbered', () => {
    expect([...markdownAnchors(docs['docs/compatibility.md'])]).toEqual(
      expect.arrayContaining(['api-7.1', 'case-70', 'posthog-compatibility', 'where-it-differs-and-why']),
    );
    expect([...markdownAnchors(docs['README.md'])]).toEqual(expect.arrayContaining(['access-control', 'access-control-1']));
  });

  it('accepts links, their continuations and existing paths', () => {
    const text = [
      '// Flag staleness (docs/compatibility.md#api-7.1, #case-70 to #case-71); README.md#access-control.',
      '// Where the rule lives: src/flags/status.ts, and docs/compatibility.md#where-it-differs-and-why.',
    ].join('\n');
    expect(check('src/a.ts', text)).toEqual([]);
  });

  it('reports a missing file, a missing anchor, a broken continuation and a missing path', () => {
    const text = ['// docs/nowhere.md#x and docs/compatibility.md#api-9.9', '// docs/compatibility.md#api-7.1, #case-99', '// moved: src/flags/gone.ts'].join(
      '\n',
    );
    expect(check('src/a.ts', text)).toEqual([
      '1 missing-file docs/nowhere.md#x',
      '1 missing-anchor docs/compatibility.md#api-9.9',
      '2 missing-anchor docs/compatibility.md#api-7.1, #case-99',
      '3 missing-path src/flags/gone.ts',
    ]);
  });

  it('reports bare citations in comments and code, but not switch labels', () => {
    const text = [
      '// Staleness (API \u00a77.1), see case 70 and cases 12\u201314.',
      '/** SDK spec 3.12 */',
      'switch (n) {',
      '  case 0: return 1;',
      '  case 1: case 2: return 2;',
      '}',
      "const note = 'case 70';",
    ].join('\n');
    expect(check('src/a.ts', text)).toEqual([
      '1 bare-citation API \u00a77.1',
      '1 bare-citation case 70',
      '1 bare-citation cases 12\u201314',
      '2 bare-citation SDK spec 3.12',
      '2 outside-repo SDK spec',
      '7 bare-citation case 70',
    ]);
  });

  it('lets test titles keep the short labels when the file links the page, and checks each label', () => {
    const linked = "// Status (docs/compatibility.md#api-7.1).\nit('case 70: the staleness matrix (API 7.1)', () => {});\nit('cases 70/72', () => {});";
    expect(check('test/a.test.ts', linked)).toEqual(['3 missing-anchor cases 70/72']);
    const unlinked = "it('case 70: the staleness matrix', () => {});\ndescribe('status (\u00a77.1)', () => {});";
    expect(check('test/a.test.ts', unlinked)).toEqual(['1 unlinked-label case 70', "2 bare-citation status (\u00a77.1)',"]);
    // Outside test/, a title-like string is an ordinary string.
    expect(check('src/a.ts', linked)).toContain('2 bare-citation case 70');
  });

  it('reports places outside the repository', () => {
    const text = ['// copied from /work/shared/vectors', '// see ../shared/notes and the spec', '// (issue 5 \u00a71)', '// ARCHITECTURE.md'].join('\n');
    expect(check('test/a.test.ts', text)).toEqual([
      '1 outside-repo /work/',
      '2 outside-repo ../shared',
      '2 outside-repo the spec',
      '3 bare-citation issue 5 \u00a71)',
      '3 outside-repo issue 5',
      '4 missing-file ARCHITECTURE.md',
      '4 outside-repo ARCHITECTURE.md',
    ]);
  });
});
