/**
 * `http.auth` of the operator console (and `/metrics`): a bearer token, or a user and password, each read from its
 * file at start and compared in constant time. Browsers send it as Basic auth after the 401's prompt; with a token
 * file the token is the Basic password (any user name), so a browser needs no extension to send a bearer header.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpAuthConfig } from '../../config/types.js';
import { sameSecret } from '../../http/incoming.js';

export type ConsoleAuth = { token: string } | { user: string; password: string };

/** Thrown when a secret file cannot be used: names the config key, the file and what it should hold. */
export class ConsoleAuthError extends Error {
  override name = 'ConsoleAuthError';
}

async function readSecret(key: string, file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConsoleAuthError(
      `${key}: cannot read ${file} (${code}): expected a file holding the secret on one line, readable by the bridge's user`,
    );
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret.length < 8 || /[\r\n]/.test(secret)) {
    throw new ConsoleAuthError(
      `${key}: ${file} holds ${secret.length < 8 ? 'fewer than 8 characters' : 'more than one line'}: expected one line of at least 8 characters (e.g. openssl rand -hex 32 > ${file})`,
    );
  }
  return secret;
}

/** Reads the secrets `http.auth` names. */
export async function loadConsoleAuth(config: HttpAuthConfig): Promise<ConsoleAuth> {
  if ('tokenFile' in config) return { token: await readSecret('http.auth.tokenFile', config.tokenFile) };
  return { user: config.user, password: await readSecret('http.auth.passwordFile', config.passwordFile) };
}

function credentials(header: string | undefined): { user: string | null; secret: string } | null {
  if (!header) return null;
  const space = header.indexOf(' ');
  if (space < 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return { user: null, secret: value };
  if (scheme !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** Whether the request carries the configured credentials (always true without `http.auth`). */
export function authorized(req: IncomingMessage, auth: ConsoleAuth | null): boolean {
  if (auth === null) return true;
  const given = credentials(req.headers.authorization);
  if (given === null) return false;
  if ('token' in auth) return sameSecret(given.secret, auth.token);
  // Both compared whatever the first gives: the time taken does not tell a right user name from a wrong one.
  const userOk = sameSecret(given.user ?? '', auth.user);
  const passwordOk = sameSecret(given.secret, auth.password);
  return userOk && passwordOk;
}

/** 401 with the Basic challenge that makes a browser ask for the credentials. */
export function refuseUnauthorized(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const body = '{"error":"authentication required: see http.auth in the configuration"}\n';
  res.writeHead(401, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'www-authenticate': 'Basic realm="alarm-bridge", charset="UTF-8"',
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
