// A cost screen for regex patterns, read from the text alone before anything compiles them.
// PostgreSQL's regex compiler (PostHog's create-time dry run) is superlinear in chained quantifiers
// and expands bounded repetition into copies; on embedded PGlite a pattern past its "too complex"
// limit does not fail cleanly but corrupts or aborts the whole database (a 13-character
// `(a{255}){255}` is enough). RE2 expands repetition the same way, and both its compile time and
// its worst-case matching time grow with the size of the program. Flag and cohort writes refuse
// patterns over these budgets, and evaluation treats a stored one as invalid without compiling it.

/**
 * Estimated NFA states: a literal, escape or bracket counts 1, a group 2 more, an alternative 1
 * more, a quantifier 2 more, and `{m,n}` copies its atom. PGlite breaks near 15 000.
 */
export const MAX_REGEX_STATES = 2_000;
/**
 * Estimated empty transitions (each `*`, `+`, `?`, optional `{m,n}` copy and empty alternative,
 * multiplied by enclosing copies): removing them is what makes compiling slow (100 ≈ 0.1 s on PGlite).
 */
export const MAX_REGEX_EMPTIES = 100;
/** Characters inside bracket expressions (each distinct character can become a color and arcs). */
export const MAX_REGEX_BRACKET_CHARS = 2_000;

export interface RegexCost {
  states: number;
  empties: number;
  bracketChars: number;
}

interface Cost {
  states: number;
  empties: number;
}

interface Frame {
  /** Finished alternatives. */
  done: Cost;
  alternatives: number;
  emptyAlternatives: number;
  branch: Cost;
  last: Cost;
}

const newFrame = (): Frame => ({
  done: { states: 0, empties: 0 },
  alternatives: 0,
  emptyAlternatives: 0,
  branch: { states: 0, empties: 0 },
  last: { states: 0, empties: 0 },
});

function closeBranch(frame: Frame): void {
  if (frame.branch.states === 0) frame.emptyAlternatives++;
  frame.done.states += frame.branch.states;
  frame.done.empties += frame.branch.empties;
  frame.alternatives++;
  frame.branch = { states: 0, empties: 0 };
  frame.last = { states: 0, empties: 0 };
}

/** The cost of a finished frame's content (alternation overhead included). */
function frameCost(frame: Frame): Cost {
  closeBranch(frame);
  const alternation = frame.alternatives > 1;
  return {
    states: frame.done.states + (alternation ? frame.alternatives : 0),
    empties: frame.done.empties + (alternation ? frame.emptyAlternatives : 0),
  };
}

/** Index just past the bracket expression starting at `start` (`[`), and its length in characters. */
function skipBracket(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  while (i < pattern.length && pattern[i] !== ']') {
    if (pattern[i] === '[' && (pattern[i + 1] === ':' || pattern[i + 1] === '=' || pattern[i + 1] === '.')) {
      const close = pattern.indexOf(`${pattern[i + 1]}]`, i + 2);
      i = close < 0 ? pattern.length : close + 2;
    } else if (pattern[i] === '\\') {
      i += 2;
    } else {
      i++;
    }
  }
  return Math.min(i + 1, pattern.length);
}

const BOUND = /^\{(\d{1,6})(,(\d{0,6}))?\}/;

/**
 * A rough, conservative cost of compiling `pattern` as a PostgreSQL advanced regular expression.
 * Malformed patterns get a best-effort estimate (PostgreSQL then refuses them itself).
 */
export function regexCost(pattern: string): RegexCost {
  if (pattern.startsWith('***=')) return { states: pattern.length - 4, empties: 0, bracketChars: 0 };
  let bracketChars = 0;
  const stack: Frame[] = [newFrame()];
  const top = () => stack[stack.length - 1];
  const item = (cost: Cost) => {
    const frame = top();
    frame.branch.states += cost.states;
    frame.branch.empties += cost.empties;
    frame.last = { ...cost };
  };
  /** Replaces the last item of the branch with `cost`. */
  const replaceLast = (cost: Cost) => {
    const frame = top();
    frame.branch.states += cost.states - frame.last.states;
    frame.branch.empties += cost.empties - frame.last.empties;
    frame.last = cost;
  };
  let i = pattern.startsWith('***:') ? 4 : 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === '\\') {
      item({ states: 1, empties: 0 });
      i += 2;
    } else if (ch === '[') {
      const end = skipBracket(pattern, i);
      bracketChars += end - i;
      item({ states: 1, empties: 0 });
      i = end;
    } else if (ch === '(') {
      i++;
      if (pattern[i] === '?') {
        const options = /^\?[a-zA-Z]*\)/.exec(pattern.slice(i, i + 12));
        if (options) {
          i += options[0].length;
          continue;
        }
        i += pattern[i + 1] === '<' ? 3 : 2;
      }
      stack.push(newFrame());
    } else if (ch === ')' && stack.length > 1) {
      const inner = frameCost(stack.pop()!);
      item({ states: inner.states + 2, empties: inner.empties });
      i++;
    } else if (ch === '|') {
      closeBranch(top());
      i++;
    } else if (ch === '*' || ch === '+' || ch === '?') {
      const last = top().last;
      replaceLast({ states: last.states + 2, empties: last.empties + 1 });
      i++;
      if (pattern[i] === '?') i++;
    } else if (ch === '{' && BOUND.test(pattern.slice(i, i + 16))) {
      const [text, low, comma, high] = BOUND.exec(pattern.slice(i, i + 16))!;
      const min = Number(low);
      const unbounded = comma !== undefined && !high;
      const max = comma === undefined ? min : unbounded ? min + 1 : Number(high);
      const copies = Math.max(1, min, max);
      const last = top().last;
      replaceLast({ states: last.states * copies, empties: last.empties * copies + Math.max(0, max - min) + (unbounded ? 1 : 0) });
      i += text.length;
      if (pattern[i] === '?') i++;
    } else {
      item({ states: 1, empties: 0 });
      i++;
    }
  }
  while (stack.length > 1) {
    const inner = frameCost(stack.pop()!);
    item({ states: inner.states + 2, empties: inner.empties });
  }
  const total = frameCost(stack[0]);
  return { states: total.states, empties: total.empties, bracketChars };
}

/** Whether PostgreSQL may be asked to compile `pattern` (within every budget). */
export function regexWithinBudget(pattern: string): boolean {
  const cost = regexCost(pattern);
  return cost.states <= MAX_REGEX_STATES && cost.empties <= MAX_REGEX_EMPTIES && cost.bracketChars <= MAX_REGEX_BRACKET_CHARS;
}
