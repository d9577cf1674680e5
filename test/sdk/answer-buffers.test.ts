import { describe, expect, it } from 'vitest';
import { answerBuffer, answerBufferStats, releaseAnswer, SLAB_SIZE } from '../../src/sdk/answer-buffers.ts';

/** Whether two views share any byte of memory. */
function overlap(a: Buffer, b: Buffer): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

describe('answer buffers', () => {
  it('gives a large answer the memory of a released one, and never that of one still unreleased', () => {
    const first = answerBuffer(250_000);
    const second = answerBuffer(250_000);
    expect(overlap(first, second)).toBe(false);
    expect(first.length).toBe(250_000);

    releaseAnswer(first);
    const reused = answerBufferStats.reused;
    const third = answerBuffer(240_000);
    expect(answerBufferStats.reused).toBe(reused + 1);
    expect(third.buffer).toBe(first.buffer);
    expect(overlap(third, second)).toBe(false);

    // Released twice: the second release must not hand the memory out again while `third` uses it.
    releaseAnswer(first);
    const fourth = answerBuffer(240_000);
    expect(overlap(fourth, third)).toBe(false);
    expect(overlap(fourth, second)).toBe(false);
    for (const b of [second, third, fourth]) releaseAnswer(b);
  });

  it('does not reuse a large block for an answer more than twice smaller', () => {
    const big = answerBuffer(600_000);
    releaseAnswer(big);
    const small = answerBuffer(200_000);
    expect(small.buffer).not.toBe(big.buffer);
    releaseAnswer(small);
  });

  it('reuses a slab only once it is full and all its answers were released', () => {
    const size = 100_000;
    const perSlab = Math.floor(SLAB_SIZE / (size + 7));
    // Start on a fresh slab.
    const filler = answerBuffer(SLAB_SIZE / 8);
    const answers: Buffer[] = [];
    while (answers.length === 0 || answers[answers.length - 1].buffer === answers[0].buffer || answers.length < 2) answers.push(answerBuffer(size));
    // The last answer opened the next slab; the ones before filled the previous one.
    const next = answers.pop()!;
    const full = answers;
    expect(full.length).toBeGreaterThan(0);
    for (let i = 0; i < full.length; i++) for (let j = i + 1; j < full.length; j++) expect(overlap(full[i], full[j])).toBe(false);

    // One answer of the full slab still unreleased: answers of later slabs never land in it.
    for (const a of full.slice(1)) releaseAnswer(a);
    releaseAnswer(filler);
    const later: Buffer[] = [];
    for (let i = 0; i < 3 * perSlab; i++) later.push(answerBuffer(size));
    for (const a of later) expect(overlap(a, full[0])).toBe(false);

    // Released too: the slab is reused.
    releaseAnswer(full[0]);
    let found = false;
    for (let i = 0; i < 3 * perSlab && !found; i++) found = answerBuffer(size).buffer === full[0].buffer;
    expect(found).toBe(true);
    releaseAnswer(next);
  });

  it('ignores what it did not hand out', () => {
    const other = Buffer.alloc(300_000);
    releaseAnswer(other);
    releaseAnswer('{"flags":{}}');
    const next = answerBuffer(300_000);
    expect(next.buffer).not.toBe(other.buffer);
    releaseAnswer(next);
  });
});
