// Memory for /flags answer bodies, reused once a writer says an answer's bytes are gone
// (docs/architecture.md#flags-the-hot-path). Fresh memory costs more than filling it: a new
// 250 KB buffer is a fresh mapping from the allocator, and the kernel faults in and zeroes each of
// its ~60 pages on first write, which took more system time than rendering the answer.
//
// Small answers are cut from shared slabs; an answer too large for a slab gets a block of its
// own. A slab is reused when it is full and every answer cut from it was released; a block as
// soon as its answer is. An answer that is never released (the Fastify route, a destroyed socket)
// keeps its memory until the garbage collector frees it, so forgetting a release costs memory
// reuse, never correctness. Releasing too early would: only call releaseAnswer once nothing will
// read the answer again (the write's callback).

/** Slab size; answers up to an eighth of it share a slab. */
export const SLAB_SIZE = 1 << 20;
const LARGEST_SHARED = SLAB_SIZE / 8;
/** Free memory kept for reuse at most (slabs and blocks together). */
const MAX_FREE_BYTES = 16 * SLAB_SIZE;
/** Blocks are sized in these steps, so that answers of nearby sizes can reuse each other's. */
const BLOCK_STEP = 64 * 1024;

interface Region {
  bytes: Buffer;
  /** Answers cut from it and not released yet. */
  outstanding: number;
  /** Still handing out answers (the current slab). */
  open: boolean;
}

const regionOf = new WeakMap<Buffer, Region>();
const freeSlabs: Buffer[] = [];
/** Free blocks, smallest first. */
const freeBlocks: Buffer[] = [];
let freeBytes = 0;

// The first answer takes the first slab: a server that never answers /flags holds none.
let slab: Region | undefined;
let slabOffset = SLAB_SIZE;

/** Statistics for tests and the benchmark: fresh allocations and reuses since start. */
export const answerBufferStats = { allocated: 0, reused: 0 };

function keep(list: Buffer[], bytes: Buffer): void {
  if (freeBytes + bytes.length > MAX_FREE_BYTES) return;
  freeBytes += bytes.length;
  list.push(bytes);
}

function take(list: Buffer[], index: number): Buffer {
  const bytes = list.splice(index, 1)[0];
  freeBytes -= bytes.length;
  answerBufferStats.reused++;
  return bytes;
}

function fresh(size: number): Buffer {
  answerBufferStats.allocated++;
  return Buffer.allocUnsafeSlow(size);
}

function retire(region: Region): void {
  region.open = false;
  if (region.outstanding > 0) return;
  if (region.bytes.length === SLAB_SIZE) keep(freeSlabs, region.bytes);
  else {
    let i = 0;
    while (i < freeBlocks.length && freeBlocks[i].length < region.bytes.length) i++;
    if (freeBytes + region.bytes.length <= MAX_FREE_BYTES) {
      freeBytes += region.bytes.length;
      freeBlocks.splice(i, 0, region.bytes);
    }
  }
}

function largeAnswer(size: number): Buffer {
  let bytes: Buffer | undefined;
  for (let i = 0; i < freeBlocks.length; i++) {
    // The smallest free block that fits, unless it is more than twice what is needed.
    if (freeBlocks[i].length >= size) {
      if (freeBlocks[i].length <= 2 * size) bytes = take(freeBlocks, i);
      break;
    }
  }
  bytes ??= fresh(Math.ceil(size / BLOCK_STEP) * BLOCK_STEP);
  const out = bytes.subarray(0, size);
  regionOf.set(out, { bytes, outstanding: 1, open: false });
  return out;
}

/** `size` bytes for an answer body, to be filled at once; pass it to releaseAnswer once written. */
export function answerBuffer(size: number): Buffer {
  if (size > LARGEST_SHARED) return largeAnswer(size);
  if (slabOffset + size > SLAB_SIZE || !slab) {
    if (slab) retire(slab);
    slab = { bytes: freeSlabs.length ? take(freeSlabs, freeSlabs.length - 1) : fresh(SLAB_SIZE), outstanding: 0, open: true };
    slabOffset = 0;
  }
  const out = slab.bytes.subarray(slabOffset, slabOffset + size);
  slab.outstanding++;
  regionOf.set(out, slab);
  // Keep the next answer 8-byte aligned.
  slabOffset = (slabOffset + size + 7) & ~7;
  return out;
}

/**
 * The answer's bytes will not be read again: its memory may hold a later answer. Anything that
 * answerBuffer did not return, or that was released already, is ignored.
 */
export function releaseAnswer(answer: Buffer | string): void {
  if (typeof answer === 'string') return;
  const region = regionOf.get(answer);
  if (!region) return;
  regionOf.delete(answer);
  region.outstanding--;
  if (!region.open && region.outstanding === 0) retire(region);
}
