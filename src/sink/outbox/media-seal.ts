/**
 * Secrets at rest (issue #15): an event's media source (camera snapshot URL with its signed-URL query token,
 * username, password) is stored in the journal and the dead letters encrypted, never in clear. AES-256-GCM with
 * the operator's key file (`outbox.keyFile`; by default `media.key` in the outbox directory, created on first use),
 * bound to the event id. The outbox unseals it just before a delivery attempt; `outbox list` and the dead letters
 * show only the sealed text. A key that no longer opens a stored source (the key file was replaced) costs that
 * event its snapshot, never the event: it is delivered without media, and a warning says why.
 *
 * Stored form: the event's JSON with `media` replaced by `"sealedMedia": "m1.<key id>.<base64url(iv, tag, data)>"`.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../log.js';
import type { MediaSource, OutgoingEvent } from '../types.js';
import { FILE_MODE, makeDurableDir, syncDir } from './journal.js';

/** The key file's name in the outbox directory when `outbox.keyFile` is not set. */
export const MEDIA_KEY_FILE = 'media.key';
const PREFIX = 'm1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_TEXT = /^[0-9a-f]{64}$/i;

/** An event as the outbox stores it: the media source sealed. */
export type StoredEvent = Omit<OutgoingEvent, 'media'> & { media?: MediaSource; sealedMedia?: string };

/** A key file that is not 32 bytes written as 64 hex digits. */
export class MediaKeyError extends Error {
  override readonly name = 'MediaKeyError';
}

export class MediaSeal {
  private readonly keyId: string;
  private warned = false;

  private constructor(
    private readonly key: Buffer,
    readonly keyFile: string,
    private readonly logger: Logger,
  ) {
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  /** Reads the key file, creating it (0600, 32 random bytes as hex) when it does not exist. */
  static async open(keyFile: string, logger: Logger): Promise<MediaSeal> {
    let text: string;
    try {
      text = (await readFile(keyFile, 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      text = await createKeyFile(keyFile);
      logger.info({ keyFile }, 'outbox: created the key file that encrypts camera credentials at rest');
    }
    if (!KEY_TEXT.test(text)) throw new MediaKeyError(`${keyFile} (outbox.keyFile): expected 32 bytes written as 64 hex digits`);
    return new MediaSeal(Buffer.from(text, 'hex'), keyFile, logger);
  }

  /**
   * The JSON text stored for an event: body, account and its media source sealed (one already sealed is kept as it
   * is). `bodyJson` is the body's own JSON text, serialised once by the caller (it is also what the sink sends:
   * docs/performance.md §3).
   */
  encode(event: StoredEvent, bodyJson: string): string {
    const sealed = event.media ? this.seal(event.media, event.body.event_id) : event.sealedMedia;
    const account = JSON.stringify(event.account);
    return sealed === undefined
      ? `{"body":${bodyJson},"account":${account}}`
      : `{"body":${bodyJson},"account":${account},"sealedMedia":${JSON.stringify(sealed)}}`;
  }

  /** The event to deliver: the media source unsealed (dropped, with a warning, when this key cannot open it). */
  decode(payload: Buffer): OutgoingEvent {
    const { sealedMedia, ...event } = storedEvent(payload);
    if (sealedMedia === undefined) return event as OutgoingEvent;
    const media = this.unseal(sealedMedia, event.body.event_id);
    if (media) return { ...event, media } as OutgoingEvent;
    if (!this.warned) {
      this.warned = true;
      this.logger.warn(
        { keyFile: this.keyFile, event_id: event.body.event_id },
        'outbox: a stored camera source cannot be decrypted with the key file (was it replaced?); such events are delivered without a snapshot',
      );
    }
    return event as OutgoingEvent;
  }

  private seal(media: MediaSource, eventId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(eventId, 'utf8'));
    const data = Buffer.concat([cipher.update(JSON.stringify(media), 'utf8'), cipher.final()]);
    return `${PREFIX}.${this.keyId}.${Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url')}`;
  }

  private unseal(sealed: string, eventId: string): MediaSource | null {
    const [prefix, keyId, blob] = sealed.split('.');
    if (prefix !== PREFIX || keyId !== this.keyId || blob === undefined) return null;
    const bytes = Buffer.from(blob, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(eventId, 'utf8'));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as MediaSource;
    } catch {
      return null;
    }
  }
}

/** An event as stored (media still sealed): what `outbox list` and the dead letters show. */
export function storedEvent(payload: Buffer): StoredEvent {
  return JSON.parse(payload.toString('utf8')) as StoredEvent;
}

async function createKeyFile(keyFile: string): Promise<string> {
  await makeDurableDir(dirname(keyFile));
  const text = randomBytes(32).toString('hex');
  const handle = await open(keyFile, 'wx', FILE_MODE);
  try {
    await handle.writeFile(`${text}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await syncDir(dirname(keyFile));
  return text;
}
