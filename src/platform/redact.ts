// Secrets never reach logs: mask credential-bearing query parameters in URLs.
const SENSITIVE = /([?&](?:personal_api_key|token|api_key|secret_api_key|project_secret_api_key)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SENSITIVE, '$1[redacted]');
}
