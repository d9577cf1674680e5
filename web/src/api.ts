// The console's only way to the server: same-origin fetches of the public REST API, with the
// session cookie and, on writes, the X-CSRFToken header the server checks against its cookie.

export interface ErrorBody {
  type?: string;
  code?: string;
  detail?: string;
  attr?: string | null;
  error?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | null,
  ) {
    super(body?.detail ?? body?.error ?? (status === 0 ? 'The server could not be reached.' : `Request failed (${status}).`));
  }
  get attr(): string | null {
    return this.body?.attr ?? null;
  }
}

export function csrfToken(): string {
  const match = /(?:^|;\s*)csrftoken=([^;]*)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]) : '';
}

/** Listeners told when a request answers 401 (the session ended): the app sends the user to sign in. */
const unauthenticated = new Set<() => void>();
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticated.add(listener);
  return () => unauthenticated.delete(listener);
}

export interface RequestOptions {
  /** Do not report a 401 to the app (pages that expect to be signed out). */
  quiet401?: boolean;
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  // A FormData body (a file upload) is sent as multipart/form-data with the browser's boundary.
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRFToken'] = csrfToken();
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, null);
  }
  const text = await response.text();
  let data: unknown = null;
  if (text && (response.headers.get('content-type') ?? '').includes('json')) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !options.quiet401) for (const listener of unauthenticated) listener();
    throw new ApiError(response.status, (data as ErrorBody) ?? null);
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, body ?? {}, options),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PATCH', path, body, options),
  delete: <T>(path: string, options?: RequestOptions) => request<T>('DELETE', path, undefined, options),
};

/** A query string from defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const cohortsPath = (projectId: number | string, suffix = '') => `/api/projects/${projectId}/cohorts/${suffix}`;
export const personsPath = (projectId: number | string, suffix = '') => `/api/projects/${projectId}/persons/${suffix}`;

export const flagsPath = (projectId: number | string, suffix = '') => `/api/projects/${projectId}/feature_flags/${suffix}`;
