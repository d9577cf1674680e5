#!/usr/bin/env node
// The container's health check: exits 0 when this instance is ready (GET /_readyz answers 200:
// database reachable, migrations applied, snapshots loaded), 1 otherwise. Plain Node, no curl in
// the image; the port is the server's own PORT.
const port = Number(process.env.PORT || 8000);
const controller = new AbortController();
const timer = setTimeout(() => controller.abort(), 2500);
try {
  const res = await fetch(`http://127.0.0.1:${port}/_readyz`, { signal: controller.signal });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
} finally {
  clearTimeout(timer);
}
