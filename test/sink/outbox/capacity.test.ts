/** The outbox's room against maxBytes and a full disk, without files: refusals, one log line per full spell. */
import { describe, expect, it } from 'vitest';
import { Capacity } from '../../../src/sink/outbox/capacity.js';
import { OutboxFullError } from '../../../src/sink/outbox/errors.js';
import { capturingLogger, outboxConfig } from './helpers.js';

function capacity(maxBytes: number) {
  const journal = { bytes: 0 };
  const dead = { bytes: 0 };
  const { logger, lines } = capturingLogger();
  return { journal, dead, lines, capacity: new Capacity(outboxConfig('/outbox', { maxBytes }), journal, dead, logger, () => 7) };
}

describe('Capacity', () => {
  it('counts journal and dead-letter bytes against maxBytes; a refusal stays until a write succeeds', () => {
    const { journal, dead, lines, capacity: room } = capacity(1000);
    journal.bytes = 600;
    dead.bytes = 300;
    expect(room.refuse(100)).toBeNull();
    expect(room.full).toBe(false);
    const refused = room.refuse(101);
    expect(refused).toBeInstanceOf(OutboxFullError);
    expect(refused).toMatchObject({ kind: 'max-bytes', refusal: 'log-full', stored: false });
    expect(room.refuse(200)).toBeInstanceOf(OutboxFullError);
    expect(room.full).toBe(true);
    expect(lines.filter((l) => l.msg === 'outbox full: new frames are NAKed until space is available')).toEqual([
      expect.objectContaining({ kind: 'max-bytes', depth: 7 }),
    ]);
    room.written();
    expect(room.full).toBe(false);
    expect(lines.filter((l) => l.msg === 'outbox: accepting again')).toHaveLength(1);
  });

  it('compaction that frees journal bytes clears a refusal; a full disk stays full until a write succeeds', () => {
    const { journal, capacity: room } = capacity(1000);
    journal.bytes = 950;
    expect(room.refuse(100)).not.toBeNull();
    room.freed();
    expect(room.full).toBe(true);
    journal.bytes = 400;
    room.freed();
    expect(room.full).toBe(false);
    expect(room.diskIsFull(Object.assign(new Error('no space'), { code: 'ENOSPC' }))).toMatchObject({
      kind: 'disk-full',
      refusal: 'log-full',
    });
    room.freed();
    expect(room.full).toBe(true);
    room.written();
    expect(room.full).toBe(false);
  });
});
