// Types of scripts/check-doc-refs.mjs, for test/app/doc-refs.test.ts.
export interface DocRefFinding {
  file: string;
  line: number;
  kind: 'missing-file' | 'missing-anchor' | 'bare-citation' | 'unlinked-label' | 'outside-repo' | 'missing-path';
  text: string;
  message: string;
}
export interface RepoLookup {
  exists(path: string): boolean;
  anchorsOf(path: string): Set<string>;
}
export const SCANNED_DIRS: string[];
export function headingSlug(text: string): string;
export function markdownAnchors(text: string): Set<string>;
export function checkText(file: string, text: string, repo: RepoLookup): DocRefFinding[];
export function checkDocRefs(root: string): DocRefFinding[];
export function formatFinding(finding: DocRefFinding): string;
