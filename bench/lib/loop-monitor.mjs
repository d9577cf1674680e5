// Preloaded into flaghost by bench/large-project.ts (`node --import`): measures the event loop's
// delay at 1 ms resolution. On SIGUSR2 it writes what it saw since the last signal to
// $BENCH_LOOP_FILE as JSON ({maxMs, p99Ms, meanMs, gcMaxMs: the longest GC pause}) and starts again.
import fs from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const file = process.env.BENCH_LOOP_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // The longest garbage-collection pause in the same window: it blocks the loop like any work.
  let gcMax = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMax = Math.max(gcMax, entry.duration);
  }).observe({ entryTypes: ['gc'] });
  process.on('SIGUSR2', () => {
    const ms = (ns) => Math.round((ns / 1e6) * 100) / 100;
    fs.writeFileSync(
      `${file}.tmp`,
      JSON.stringify({ maxMs: ms(histogram.max), p99Ms: ms(histogram.percentile(99)), meanMs: ms(histogram.mean), gcMaxMs: Math.round(gcMax * 100) / 100 }),
    );
    fs.renameSync(`${file}.tmp`, file);
    histogram.reset();
    gcMax = 0;
  });
}
