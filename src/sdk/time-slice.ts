// Long snapshot work (reading, compiling and rendering thousands of flags) in short slices, so that
// it never holds the event loop for long: other projects' /flags answers run in between
// (docs/architecture.md#snapshots-and-change-notifications).

/** A slice's budget: well under the 10 ms a rebuild may hold the event loop. */
const SLICE_MS = 4;

export class TimeSlicer {
  private start = performance.now();

  /** Starts a new slice (after an await, the event loop has run). */
  restart(): void {
    this.start = performance.now();
  }

  /** Whether the current slice is used up (then `await next()`). Checked per item: no promise when there is time left. */
  due(): boolean {
    return performance.now() - this.start >= SLICE_MS;
  }

  /** Lets the event loop run, then starts a new slice. */
  async next(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.restart();
  }

  /** Yields to the event loop when the current slice is used up. */
  async pause(): Promise<void> {
    if (this.due()) await this.next();
  }

  /** Runs a generator to its end, yielding to the event loop between its steps as the budget requires. */
  async drive<T>(steps: Generator<void, T>): Promise<T> {
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      if (this.due()) await this.next();
    }
  }
}
