// Whether HOST and PORT can be listened on, checked at start before anything is written (a first
// start must not initialise a database and print its one-time key, then fail), and the one-line
// message for each way listening fails.
import net from 'node:net';

export class ListenError extends Error {}

function where(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** A readable sentence for a failed listen (no stack: these are configuration or machine problems). */
export function listenErrorMessage(err: unknown, host: string, port: number): string {
  const code = (err as NodeJS.ErrnoException).code;
  const at = where(host, port);
  switch (code) {
    case 'EADDRINUSE':
      return `Cannot listen on ${at}: another process already uses port ${port}. Stop it, or set PORT to a free port.`;
    case 'EADDRNOTAVAIL':
      return `Cannot listen on ${at}: ${host} is not an address of this machine (HOST). Use 127.0.0.1, 0.0.0.0 (every interface) or one of this machine's addresses.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `Cannot listen on ${at}: the host name ${host} does not resolve (HOST). Use an IP address such as 127.0.0.1 or 0.0.0.0.`;
    case 'EACCES':
      return `Cannot listen on ${at}: permission denied${port > 0 && port < 1024 ? ` (ports below 1024 need privileges; use PORT=8000 behind a proxy)` : ''}.`;
    default:
      return `Cannot listen on ${at}: ${(err as Error).message}`;
  }
}

/**
 * Binds HOST:PORT once and lets it go again. A port taken between this check and the real listen
 * (a race with another process) still fails later, with the same message.
 */
export async function checkListenAddress(host: string, port: number): Promise<void> {
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, () => resolve());
    });
  } catch (err) {
    throw new ListenError(listenErrorMessage(err, host, port));
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}
