/**
 * A start-up failure the operator must fix: what went wrong, naming the configuration key, and what to change.
 * `serve` prints every start-up failure as `alarm-bridge: <what>: <fix>` on stderr and exits with status 2.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';

  constructor(
    readonly what: string,
    readonly fix: string,
    /** The system error's code (`EADDRINUSE`, …) when there was one. */
    readonly code?: string,
  ) {
    super(`${what}: ${fix}`);
  }
}

/** What to change when a socket cannot be bound, by error code; `key` names the config key of its address. */
const LISTEN_FIXES: Readonly<Record<string, (key: string) => [problem: string, fix: string]>> = {
  EADDRINUSE: (key) => ['the address is in use', `stop the other process listening there, or change ${key}.port`],
  EACCES: (key) => ['permission denied', `ports below 1024 need root or CAP_NET_BIND_SERVICE: change ${key}.port`],
  EADDRNOTAVAIL: (key) => ['no interface of this machine has that address', `change ${key}.host`],
  ENOTFOUND: (key) => ['the host name does not resolve', `change ${key}.host`],
  EAI_AGAIN: (key) => ['the host name does not resolve', `change ${key}.host`],
};

/** `host:port`, IPv6 hosts in brackets. */
const socketAddress = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * The StartupError for a socket of config key `key` (`listeners[0]`, `http`; `label` says what it is) that could not
 * listen on `host`:`port`; other errors as they are.
 */
export function listenFailure(err: unknown, key: string, label: string, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const fixes = code ? LISTEN_FIXES[code] : undefined;
  if (!fixes) return err;
  const [problem, fix] = fixes(key);
  return new StartupError(`${key} (${label}) cannot listen on ${socketAddress(host, port)} (${code}: ${problem})`, fix, code);
}
