/**
 * `serve --listen [tcp://|udp://]HOST:PORT` (repeatable): DC-09 listeners given on the command line, in place of the
 * configured ones — for trying the bridge on another port without writing a configuration file.
 */
import { isIP } from 'node:net';
import type { ListenerConfig } from '../config/types.js';
import { UsageError } from './frame-input.js';

const EXPECTED = 'expected HOST:PORT (TCP and UDP), tcp://HOST:PORT or udp://HOST:PORT, e.g. 127.0.0.1:12128 or [::1]:12128';
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,253})$/;

function listener(transport: ListenerConfig['transport'], host: string, port: number): ListenerConfig {
  return { protocol: 'dc09', transport, host, port, closeAfterReplyMs: null, proxyProtocol: false };
}

/** The listeners one `--listen` value stands for; a UsageError naming the option and the expected form otherwise. */
export function parseListen(value: string): ListenerConfig[] {
  const scheme = /^(tcp|udp):\/\//.exec(value);
  const address = scheme ? value.slice(scheme[0].length) : value;
  const split = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const host = split?.[1] ?? split?.[2];
  const port = Number(split?.[3]);
  const validHost = host !== undefined && (split?.[1] !== undefined ? isIP(host) === 6 : isIP(host) === 4 || HOST_NAME.test(host));
  if (!validHost || !Number.isInteger(port) || port > 65535) throw new UsageError(`--listen ${JSON.stringify(value)}: ${EXPECTED}`);
  const transports = scheme ? [scheme[1] as ListenerConfig['transport']] : (['tcp', 'udp'] as const);
  return transports.map((transport) => listener(transport, host, port));
}

/** Every `--listen` value's listeners, in order (duplicates refused: the second bind would fail anyway). */
export function listenersFromOption(values: readonly string[]): ListenerConfig[] {
  const listeners = values.flatMap(parseListen);
  const seen = new Set<string>();
  for (const l of listeners) {
    const key = `${l.transport}://${l.host}:${l.port}`;
    if (seen.has(key)) throw new UsageError(`--listen: ${key} is given twice`);
    seen.add(key);
  }
  return listeners;
}
