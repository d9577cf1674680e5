// DRF-style pagination: limit/offset (absolute next/previous URLs, sorted query keys) and
// page/limit for activity lists.

export interface RequestUrl {
  protocol: string;
  host: string;
  url: string;
}

export function absoluteUrl(req: RequestUrl, publicUrl?: string): URL {
  return new URL(req.url, publicUrl ? `${publicUrl}/` : `${req.protocol}://${req.host}`);
}

/** The absolute URL of the request without its query: activity pagination links are built on it. */
export function absolutePathUrl(req: RequestUrl, publicUrl?: string): string {
  const url = absoluteUrl(req, publicUrl);
  return `${url.origin}${url.pathname}`;
}

const positiveInt = (raw: unknown, strict: boolean): number | undefined => {
  if (typeof raw !== 'string' || !/^\s*\d{1,15}\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  if (strict && n === 0) return undefined;
  return n;
};

export function parseLimitOffset(query: Record<string, unknown>, defaultLimit = 100): { limit: number; offset: number } {
  return {
    limit: positiveInt(query.limit, true) ?? defaultLimit,
    offset: positiveInt(query.offset, false) ?? 0,
  };
}

/** `url` with `changes` applied (undefined removes a key) and keys re-encoded in sorted order. */
export function withQuery(url: URL, changes: Record<string, string | number | undefined>): string {
  const entries: Array<[string, string]> = [];
  for (const [k, v] of url.searchParams) if (!(k in changes)) entries.push([k, v]);
  for (const [k, v] of Object.entries(changes)) if (v !== undefined) entries.push([k, String(v)]);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const query = new URLSearchParams(entries).toString();
  return `${url.origin}${url.pathname}${query ? `?${query}` : ''}`;
}

export function limitOffsetLinks(url: URL, count: number, limit: number, offset: number): { next: string | null; previous: string | null } {
  const next = offset + limit < count ? withQuery(url, { limit, offset: offset + limit }) : null;
  let previous: string | null = null;
  if (offset > 0) previous = offset - limit <= 0 ? withQuery(url, { limit, offset: undefined }) : withQuery(url, { limit, offset: offset - limit });
  return { next, previous };
}

export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}
