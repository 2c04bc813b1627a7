/**
 * Batched JetStream publishing (docs/cluster.md §3) against a real nats-server on loopback: stored once per message
 * id, PubAcks resolve a frame's promise, and every kind of refusal (no responders, no answer in time, an API error,
 * a lost connection, closing) rejects with the name the cluster log classifies.
 */
import { connect, createInbox, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishFailure } from '../../../src/sink/cluster/cluster-log.js';
import { BatchPublisher, pubAckProblem, PublishError, storedSeq } from '../../../src/sink/cluster/publisher.js';
import { natsForFile, until } from './helpers.js';

const nats = natsForFile(1);
let nc: NatsConnection;
let jsm: JetStreamManager;
let connected = true;
const publisher = (timeoutMs = 2000) => new BatchPublisher({ nc, headers, createInbox, connected: () => connected }, timeoutMs);
const bytes = (text: string) => new TextEncoder().encode(text);

beforeAll(async () => {
  nc = await connect({ servers: nats().urls, noAsyncTraces: true });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'PUB', subjects: ['pub.>'] });
  await jsm.streams.add({ name: 'SMALL', subjects: ['small.>'], max_msg_size: 16 });
});
afterAll(() => nc?.close());

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (err: unknown) => err as PublishError,
  );

describe('BatchPublisher', () => {
  it("stores a frame's messages and resolves once all are acknowledged; a message id already stored is stored once", async () => {
    const p = publisher();
    const before = (await jsm.streams.info('PUB')).state.messages;
    const items = ['a', 'b', 'c'].map((id) => ({ subject: `pub.${id}`, data: bytes(`event ${id}`), msgID: `id-${id}` }));
    // Three frames in one turn: one flush, three promises.
    await Promise.all([p.publish(items.slice(0, 1)), p.publish(items.slice(1)), p.publish([items[0]!])]);
    expect((await jsm.streams.info('PUB')).state.messages).toBe(before + 3);
    const stored = await jsm.streams.getMessage('PUB', { last_by_subj: 'pub.b' });
    expect(stored?.header.get('Nats-Msg-Id')).toBe('id-b');
    expect(new TextDecoder().decode(stored?.data)).toBe('event b');
    expect(p.inFlight).toBe(0);
    p.close();
  });

  it("tells each item's stream sequence as its PubAck arrives, and nothing for a message id already stored", async () => {
    const p = publisher();
    const seen: Array<[number, number]> = [];
    const items = ['s1', 's2'].map((id) => ({ subject: `pub.${id}`, data: bytes(id), msgID: `seq-${id}` }));
    await p.publish(items, (index, seq) => seen.push([index, seq]));
    const last = (await jsm.streams.info('PUB')).state.last_seq;
    expect(seen.sort()).toEqual([
      [0, last - 1],
      [1, last],
    ]);
    const again: Array<[number, number]> = [];
    await p.publish([items[1]!], (index, seq) => again.push([index, seq]));
    expect(again).toEqual([]);
    p.close();
  });

  it('an empty frame resolves at once', async () => {
    const p = publisher();
    await expect(p.publish([])).resolves.toBeUndefined();
    p.close();
  });

  it('no stream for the subject: NoResponders, a store-unavailable refusal', async () => {
    const p = publisher();
    const err = await rejection(p.publish([{ subject: 'nostream.x', data: bytes('x'), msgID: 'n1' }]));
    expect(err?.name).toBe('NoResponders');
    expect(publishFailure(err, 2).refusal).toBe('store-unavailable');
    p.close();
  });

  it('no answer within the timeout: TimeoutError, a store-unavailable refusal', async () => {
    // A plain subscriber takes the message and never answers (no responders would be sent otherwise).
    const silent = nc.subscribe('silent.>');
    const p = publisher(150);
    const err = await rejection(p.publish([{ subject: 'silent.x', data: bytes('x'), msgID: 't1' }]));
    expect(err?.name).toBe('TimeoutError');
    expect(publishFailure(err, 1).refusal).toBe('store-unavailable');
    expect(p.inFlight).toBe(0);
    silent.unsubscribe();
    p.close();
  });

  it('a subject the server refuses to take (permissions) fails the frames that sent to it, and only those', async () => {
    const silent = nc.subscribe('silent.>');
    const p = publisher(60_000);
    const refused = rejection(p.publish([{ subject: 'silent.denied', data: bytes('x'), msgID: 'p1' }]));
    const other = rejection(p.publish([{ subject: 'silent.other', data: bytes('y'), msgID: 'p2' }]));
    await until(() => p.inFlight === 2, 5000, 'both sent');
    const violation = Object.assign(new Error('Permissions Violation for Publish to "silent.denied"'), {
      name: 'PermissionViolationError',
    });
    p.refusedSubject('silent.denied', violation);
    expect(await refused).toBe(violation);
    expect(publishFailure(violation, 60).refusal).toBe('write-failed');
    expect(p.inFlight).toBe(1);
    p.close();
    expect((await other)?.name).toBe('ClosedConnectionError');
    silent.unsubscribe();
  });

  it("JetStream refuses the message itself (too large): the API error's text, a write-failed refusal; the frame's other message does not resolve it", async () => {
    const p = publisher();
    const err = await rejection(
      p.publish([
        { subject: 'small.ok', data: bytes('tiny'), msgID: 's1' },
        { subject: 'small.big', data: bytes('x'.repeat(100)), msgID: 's2' },
      ]),
    );
    expect(err?.name).toBe('JetStreamApiError');
    expect(err?.message).toMatch(/size/i);
    expect(publishFailure(err, 2).refusal).toBe('write-failed');
    p.close();
  });

  it('while the client is disconnected a flush refuses at once; failAll and close reject what waits', async () => {
    const p = publisher();
    connected = false;
    try {
      const err = await rejection(p.publish([{ subject: 'pub.d', data: bytes('d'), msgID: 'd1' }]));
      expect(err?.name).toBe('ConnectionError');
      expect(publishFailure(err, 2).refusal).toBe('store-unavailable');
    } finally {
      connected = true;
    }
    const lost = rejection(p.publish([{ subject: 'pub.e', data: bytes('e'), msgID: 'e1' }]));
    p.failAll(new PublishError('ConnectionError', 'lost'));
    expect((await lost)?.message).toBe('lost');
    const closing = rejection(p.publish([{ subject: 'pub.f', data: bytes('f'), msgID: 'f1' }]));
    p.close();
    expect((await closing)?.name).toBe('ClosedConnectionError');
    expect((await rejection(p.publish([{ subject: 'pub.g', data: bytes('g'), msgID: 'g1' }])))?.name).toBe('ClosedConnectionError');
  });
});

describe('storedSeq', () => {
  it.each([
    ['{"stream":"S","seq":42}', 42],
    ['{"stream":"S","seq":7,"domain":"d"}', 7],
    ['{"stream":"S","seq":42,"duplicate":true}', -1],
    // as nats-server 2.9 writes them
    ['{"stream":"D", "seq":1}', 1],
    ['{"stream":"D", "seq":1,"duplicate": true}', -1],
    ['{"stream":"D", "seq":3,"duplicate": false}', 3],
    ['{"stream":"S"}', -1],
    ['{"stream":"S","seq":x}', -1],
  ])('%s', (text, seq) => {
    expect(storedSeq(bytes(text))).toBe(seq);
  });
});

describe('pubAckProblem', () => {
  const answer = (text: string, code?: number) => ({
    data: bytes(text),
    headers: code === undefined ? undefined : ({ code } as never),
  });

  it.each([
    ['a PubAck', '{"stream":"S","seq":5}', undefined, null],
    ['a duplicate PubAck', '{"stream":"S","seq":5,"duplicate":true}', undefined, null],
    ['no responders', '', 503, 'NoResponders'],
    ['an empty answer with another status', '', 408, 'JetStreamApiError'],
    ['an API error', '{"error":{"code":503,"err_code":10077,"description":"no suitable peers"}}', undefined, 'JetStreamApiError'],
    ['not JSON', 'nonsense', undefined, 'JetStreamApiError'],
    ['JSON without a stream', '{"seq":1}', undefined, 'JetStreamApiError'],
  ])('%s', (_name, text, code, expected) => {
    expect(pubAckProblem(answer(text, code))?.name ?? null).toBe(expected);
  });

  it("keeps an API error's status: 503 is store-unavailable", () => {
    const err = pubAckProblem(answer('{"error":{"code":503,"err_code":10077,"description":"no suitable peers"}}'));
    expect(err?.status).toBe(503);
    expect(publishFailure(err, 5).refusal).toBe('store-unavailable');
  });
});
