// The usage dashboard as a self-contained HTML page: every tile's series drawn as a server-side
// SVG line chart (no script, no stylesheet or font from elsewhere), and the error page shown
// instead when the page cannot be opened.
import type { DashboardView, Series } from './service.ts';
import { dayLabel } from './service.ts';

/** PostHog's data colours, in series order. */
export const SERIES_COLORS = ['#1d4aff', '#621da6', '#42827e', '#ce0e74', '#f14f58', '#7c440e', '#529a0a', '#0476fb', '#fe729e', '#35416b'];

const WIDTH = 520;
const HEIGHT = 240;
const MARGIN = { top: 14, right: 14, bottom: 30, left: 44 };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A round axis maximum at or above `max` (1, 2, 5 × 10^n), never below 1. */
function niceMax(max: number): number {
  if (max <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

const fmt = (n: number) => (Math.abs(n) >= 1000 ? n.toLocaleString('en-US') : String(Math.round(n * 100) / 100));
const shortDay = (day: string) => dayLabel(day).split('-').slice(0, 2).join(' ');

/** One line chart: x = days, y = counts, one polyline (with point markers) per series. */
export function lineChartSvg(title: string, days: string[], series: Series[]): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const top = niceMax(Math.max(0, ...series.flatMap((s) => s.data)));
  const x = (i: number) => MARGIN.left + (days.length <= 1 ? plotW / 2 : (i * plotW) / (days.length - 1));
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
  const parts: string[] = [];
  for (let g = 0; g <= 4; g++) {
    const value = (top * g) / 4;
    const gy = y(value).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${gy}" y2="${gy}" stroke="#e5e7eb" stroke-width="1"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${gy}" dy="0.32em" text-anchor="end" font-size="11" fill="#6b7280">${fmt(value)}</text>`);
  }
  days.forEach((day, i) => {
    if (i % 5 !== 0 && i !== days.length - 1) return;
    const anchor = i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle';
    parts.push(`<text x="${x(i).toFixed(1)}" y="${HEIGHT - 10}" text-anchor="${anchor}" font-size="11" fill="#6b7280">${escapeHtml(shortDay(day))}</text>`);
  });
  parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#9ca3af" stroke-width="1"/>`);
  series.forEach((s, k) => {
    const color = SERIES_COLORS[k % SERIES_COLORS.length];
    const points = s.data.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2.5" stroke-linejoin="round" points="${points}"/>`);
    for (let i = 0; i < s.data.length; i++) {
      parts.push(
        `<circle cx="${x(i).toFixed(1)}" cy="${y(s.data[i]).toFixed(1)}" r="3" fill="${color}"><title>${escapeHtml(`${s.label}: ${fmt(s.data[i])} on ${dayLabel(days[i])}`)}</title></circle>`,
      );
    }
  });
  if (!series.some((s) => s.count > 0)) {
    parts.push(
      `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle" font-size="13" fill="#6b7280">No data in the last 30 days</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg>`;
}

function legend(series: Series[]): string {
  if (!series.length) return '';
  return `<ul class="legend">${series
    .map(
      (s, k) =>
        `<li><span class="swatch" style="background:${SERIES_COLORS[k % SERIES_COLORS.length]}"></span>${escapeHtml(s.label)} <span class="total">${fmt(s.count)}</span></li>`,
    )
    .join('')}</ul>`;
}

const STYLE = `
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#111827;background:#f3f4f6}
header{padding:20px 20px 8px}h1{font-size:20px;margin:0 0 4px}p.meta{margin:0;color:#6b7280}
main{display:flex;flex-wrap:wrap;gap:16px;padding:12px 20px 20px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:14px 16px;width:${WIDTH}px}
h2{font-size:15px;margin:0 0 2px}p.desc{margin:0 0 8px;color:#6b7280;font-size:12px}
ul.legend{list-style:none;margin:0 0 6px;padding:0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.total{color:#6b7280}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

export function renderDashboardPage(view: DashboardView): string {
  const { dashboard, days } = view;
  const tiles = view.tiles
    .map(
      ({ tile, series }) =>
        `<section><h2>${escapeHtml(tile.name)}</h2><p class="desc">${escapeHtml(tile.description)}</p>${legend(series)}${lineChartSvg(tile.name, days, series)}</section>`,
    )
    .join('');
  const range = `${dayLabel(days[0])} – ${dayLabel(days[days.length - 1])} (UTC)`;
  return page(
    dashboard.name,
    `<header><h1>${escapeHtml(dashboard.name)}</h1><p class="meta">${escapeHtml(dashboard.description)}</p><p class="meta">${escapeHtml(range)}</p></header><main>${tiles || '<p>This dashboard has no tiles.</p>'}</main>`,
  );
}

export function renderErrorPage(status: number, message: string): string {
  const hint =
    status === 401
      ? '<p>Open this page with a personal API key: <code>/dashboards/&lt;id&gt;?personal_api_key=phx_…</code>. A key limited to the <code>dashboard:read</code> scope is enough and safest.</p>'
      : '';
  return page(`flaghost: ${status}`, `<header><h1>${status}</h1><p class="meta">${escapeHtml(message)}</p>${hint}</header>`);
}
