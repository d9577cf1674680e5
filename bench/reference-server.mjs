// The reference every benchmark figure is divided by: a bare node:http server answering every
// request with one fixed buffer. Usage: node bench/reference-server.mjs <file> [content-type]
// Prints {"port":N} on stdout once listening on 127.0.0.1 (an ephemeral port).
import fs from 'node:fs';
import http from 'node:http';

const body = fs.readFileSync(process.argv[2]);
const type = process.argv[3] ?? 'application/json';
const length = String(body.length);

const server = http.createServer((req, res) => {
  // Drain any request body so keep-alive connections stay usable.
  req.resume();
  res.writeHead(200, { 'content-type': type, 'content-length': length });
  res.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
