// The flag's usage over the last 30 days: the tiles of its usage dashboard (calls per value, unique
// users) drawn as line charts.
import { useEffect, useRef, useState } from 'react';
import type { Dashboard, TrendSeries } from '../types.ts';

const COLORS = ['var(--series-1)', 'var(--series-2)', 'var(--series-3)', 'var(--series-4)', 'var(--series-5)', 'var(--series-6)'];
const H = 220;
const M = { top: 12, right: 12, bottom: 28, left: 40 };

/** The top of the y axis: four gridline steps of 1, 2 or 5 × 10^n covering `max`. */
function niceMax(max: number): number {
  const raw = Math.max(max, 1) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 5, 10]) if (step * power >= raw) return Math.max(4, step * power * 4);
  return 40 * power;
}

const shortDay = (day: string) => new Date(`${day}T00:00:00Z`).toLocaleDateString('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });

const seriesName = (title: string, s: TrendSeries) => s.breakdown_value ?? (/unique/i.test(title) ? 'Unique users' : 'Calls');

/** Draws at the width the chart really has, so labels keep their size on a phone. */
function useWidth(): [React.RefObject<HTMLElement | null>, number] {
  const ref = useRef<HTMLElement | null>(null);
  const [width, setWidth] = useState(560);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.max(260, Math.round(entry.contentRect.width))));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

export function LineChart({ title, series }: { title: string; series: TrendSeries[] }) {
  const [ref, W] = useWidth();
  const days = series[0]?.days ?? [];
  const top = niceMax(Math.max(0, ...series.flatMap((s) => s.data)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (i: number) => M.left + (days.length <= 1 ? pw / 2 : (i * pw) / (days.length - 1));
  const y = (v: number) => M.top + ph - (v / top) * ph;
  const total = series.reduce((sum, s) => sum + s.count, 0);
  const summary = series.map((s) => `${seriesName(title, s)}: ${s.count}`).join(', ');
  return (
    <figure className="chart" ref={ref}>
      <figcaption>
        <strong>{title}</strong>
        {series.length ? (
          <ul className="legend">
            {series.map((s, k) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: series k has colour k: its position is its identity
              <li key={k}>
                <span className="swatch" style={{ background: COLORS[k % COLORS.length] }} />
                {seriesName(title, s)} <span className="muted">{s.count.toLocaleString('en')}</span>
              </li>
            ))}
          </ul>
        ) : null}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}, last 30 days. ${total ? summary : 'No data.'}`}>
        {[0, 1, 2, 3, 4].map((g) => (
          <g key={g}>
            <line x1={M.left} x2={W - M.right} y1={y((top * g) / 4)} y2={y((top * g) / 4)} className="grid" />
            <text x={M.left - 6} y={y((top * g) / 4)} dy="0.32em" textAnchor="end" className="axis">
              {Math.round((top * g) / 4).toLocaleString('en')}
            </text>
          </g>
        ))}
        {days.map((d, i) =>
          (days.length - 1 - i) % (W < 420 ? 14 : 7) === 0 ? (
            <text key={d} x={x(i)} y={H - 8} textAnchor={i === days.length - 1 ? 'end' : i === 0 ? 'start' : 'middle'} className="axis">
              {shortDay(d)}
            </text>
          ) : null,
        )}
        {series.map((s, k) => (
          <polyline
            key={seriesName(title, s)}
            fill="none"
            stroke={COLORS[k % COLORS.length]}
            strokeWidth="2.25"
            strokeLinejoin="round"
            points={s.data.map((v, i) => `${x(i)},${y(v)}`).join(' ')}
          />
        ))}
        {!total ? (
          <text x={M.left + pw / 2} y={M.top + ph / 2} textAnchor="middle" className="chart-empty">
            No calls in the last 30 days
          </text>
        ) : null}
      </svg>
    </figure>
  );
}

export function UsageCharts({ dashboard }: { dashboard: Dashboard }) {
  return (
    <div className="charts">
      {dashboard.tiles.map((tile) => (
        <LineChart key={tile.id} title={tile.insight.name} series={tile.insight.result} />
      ))}
    </div>
  );
}
