import { describe, expect, it } from 'vitest';
import { listenFailure, StartupError } from '../src/startup-error.js';

const errno = (code: string) => Object.assign(new Error(`listen ${code}`), { code });

describe('listenFailure', () => {
  it.each([
    [
      'EADDRINUSE',
      'listeners[0] (dc09/udp) cannot listen on [::1]:5000 (EADDRINUSE: the address is in use): stop the other process listening there, or change listeners[0].port',
    ],
    [
      'EACCES',
      'listeners[0] (dc09/udp) cannot listen on [::1]:5000 (EACCES: permission denied): ports below 1024 need root or CAP_NET_BIND_SERVICE: change listeners[0].port',
    ],
    [
      'EADDRNOTAVAIL',
      'listeners[0] (dc09/udp) cannot listen on [::1]:5000 (EADDRNOTAVAIL: no interface of this machine has that address): change listeners[0].host',
    ],
  ])('%s names the key, the address and what to change', (code, message) => {
    const failure = listenFailure(errno(code), 'listeners[0]', 'dc09/udp', '::1', 5000);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as Error).message).toBe(message);
  });

  it('leaves other errors as they are', () => {
    const other = errno('EMFILE');
    expect(listenFailure(other, 'http', 'status server', '127.0.0.1', 80)).toBe(other);
    expect(listenFailure('weird', 'http', 'status server', '127.0.0.1', 80)).toBe('weird');
  });
});
