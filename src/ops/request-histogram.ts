// A labelled latency histogram cheap enough for every request of the SDK hot path, exposed through
// prom-client's registry. prom-client's own Histogram validates and hashes the label object on
// every observe (about 0.6–0.9 µs measured here, 1–1.5 % of a /flags answer's CPU); this one
// finds its series with three Map lookups and counts in a typed array.
import type { Metric } from 'prom-client';

/** One sample as prom-client's registry formats it (its type declarations do not export this shape). */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket, not cumulative; the last slot is above every bound (+Inf only). */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class RequestHistogram {
  readonly type = 'histogram';
  private series = new Map<string, Map<string, Map<number, Series>>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(route: string, method: string, status: number, seconds: number): void {
    let byMethod = this.series.get(route);
    if (!byMethod) this.series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      series = { labels: { route, method, status: String(status) }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      byStatus.set(status, series);
    }
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]) i++;
    series.counts[i]++;
    series.sum += seconds;
    series.count++;
  }

  /** Observations of one series so far (tests and the README example read it). */
  count(route: string, method: string, status: number): number {
    return this.series.get(route)?.get(method)?.get(status)?.count ?? 0;
  }

  /** What prom-client's registry formats: `_bucket` (cumulative, with `le`), `_sum` and `_count` per series. */
  get(): { name: string; help: string; type: string; aggregator: 'sum'; values: Sample[] } {
    const values: Sample[] = [];
    for (const byMethod of this.series.values()) {
      for (const byStatus of byMethod.values()) {
        for (const series of byStatus.values()) {
          let cumulative = 0;
          this.bounds.forEach((bound, i) => {
            cumulative += series.counts[i];
            values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: bound }, value: cumulative });
          });
          values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: '+Inf' }, value: series.count });
          values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
          values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
        }
      }
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }

  reset(): void {
    this.series = new Map();
  }

  /** The shape prom-client's Registry.registerMetric() asks for; it only calls get() and reset(). */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
