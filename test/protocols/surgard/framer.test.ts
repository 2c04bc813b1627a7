import { describe, expect, it } from 'vitest';
import {
  buildSurgardCid,
  buildSurgardHeartbeat,
  buildSurgardSia,
  parseSurgardRecord,
  splitGlued,
  SurgardFramer,
  withTerminator,
} from '../../../src/protocols/surgard/index.js';

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const texts = (records: Buffer[]) => records.map((r) => r.toString('latin1'));

const CID = '5011 181234E13001015';
const CID_3 = '501001 187037R30100000';
const HEARTBEAT = '1011           @    ';
const SIA = 'S011[#1234|Nri1/BA001]';
const LONG_ACCOUNT = '5011 1812341E13001015';

/** Feeds `bytes` in the given pieces and collects everything the framer returns. */
function feed(framer: SurgardFramer, pieces: Buffer[]) {
  const records: Buffer[] = [];
  let junkBytes = 0;
  let overflowed = false;
  for (const piece of pieces) {
    const out = framer.push(piece);
    records.push(...out.records);
    junkBytes += out.junkBytes;
    overflowed ||= out.overflowed;
  }
  return { records: texts(records), junkBytes, overflowed };
}

describe('terminators (docs/surgard.md §1)', () => {
  it('DC4 ends a record; the terminator is not part of it', () => {
    const out = new SurgardFramer().push(withTerminator(CID));
    expect(texts(out.records)).toEqual([CID]);
    expect(out).toMatchObject({ junkBytes: 0, overflowed: false });
  });

  it('CR ends a record too; an LF right after CR is not a new record', () => {
    expect(feed(new SurgardFramer(), [latin1(`${CID}\r\n${HEARTBEAT}\r\n`)]).records).toEqual([CID, HEARTBEAT]);
    expect(feed(new SurgardFramer(), [latin1(`${CID}\r`), latin1(`\n${SIA}\r`), latin1('\n')]).records).toEqual([CID, SIA]);
  });

  it('strips a leading LF/space/NUL; empty records (DC4 DC4, CR alone) give nothing', () => {
    const out = feed(new SurgardFramer(), [latin1(`\n ${CID}\x14\x14\r\x00\n${CID_3}\x14`)]);
    expect(out.records).toEqual([CID, CID_3]);
    expect(out.junkBytes).toBe(0);
  });

  it("keeps the heartbeat's trailing spaces", () => {
    expect(feed(new SurgardFramer(), [withTerminator(HEARTBEAT)]).records).toEqual([HEARTBEAT]);
  });

  it('hands on unparseable records in order, for the caller to NAK', () => {
    const out = feed(new SurgardFramer(), [latin1(`${CID}\x14garbage\x14${SIA}\x14`)]);
    expect(out.records).toEqual([CID, 'garbage', SIA]);
  });

  it('keeps an unterminated record until its terminator', () => {
    const framer = new SurgardFramer();
    expect(framer.push(latin1(CID)).records).toEqual([]);
    expect(framer.bufferedBytes).toBe(CID.length);
    expect(texts(framer.push(latin1('\x14')).records)).toEqual([CID]);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('copies the records out of the chunk', () => {
    const chunk = withTerminator(CID);
    const [record] = new SurgardFramer().push(chunk).records;
    chunk.fill(0x41);
    expect(record?.toString('latin1')).toBe(CID);
  });
});

describe('glued records (docs/surgard.md §1: split on the record pattern)', () => {
  it('splits the EBS OSM retry example', () => {
    expect(splitGlued('5011 181234E130010155011 181234E13001015')).toEqual([CID, CID]);
  });

  it.each([2, 3, 4, 5, 6])('%i copies glued, one terminator at the end', (n) => {
    for (const record of [
      CID,
      CID_3,
      HEARTBEAT,
      SIA,
      LONG_ACCOUNT,
      '5011123418113001015',
      buildSurgardCid({
        receiver: 2,
        line: 3,
        account: '123456',
        qualifier: 'P',
        code: 602,
        group: 0,
        zone: 0,
      }),
    ]) {
      const glued = record.repeat(n);
      expect(splitGlued(glued)).toEqual(Array(n).fill(record));
      expect(feed(new SurgardFramer(), [withTerminator(glued)]).records).toEqual(Array(n).fill(record));
    }
  });

  it.each([2, 3, 4, 5, 6])('%i copies glued without any terminator: all but the last come out at once', (n) => {
    const framer = new SurgardFramer();
    expect(feed(framer, [latin1(CID.repeat(n))]).records).toEqual(Array(n - 1).fill(CID));
    expect(feed(framer, [latin1('\x14')]).records).toEqual([CID]);
  });

  it('does not cut a held record plus the start of the next copy into two other records', () => {
    // The first 23 characters read as a record (account 5C5D85a, Q e), and so do its last character plus the
    // next copy's first 23 (receiver 54, line 3v): only whole copies are split before a terminator.
    const record = '543v 185C5D85ae100000005';
    const bytes = withTerminator(record.repeat(4));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const out = feed(new SurgardFramer(), [bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(out.records, `cut at ${cut}`).toEqual(Array(4).fill(record));
    }
  });

  it('different records glued without a terminator wait for one', () => {
    const framer = new SurgardFramer();
    expect(feed(framer, [latin1(`${CID}${SIA}${HEARTBEAT}`)]).records).toEqual([]);
    expect(feed(framer, [latin1('\r')]).records).toEqual([CID, SIA, HEARTBEAT]);
  });

  it('splits a mix of record types and LF/space between them', () => {
    const glued = `${CID}${HEARTBEAT}${SIA}\n${CID_3} ${CID}`;
    expect(splitGlued(glued)).toEqual([CID, HEARTBEAT, SIA + '\n', `${CID_3} `, CID]);
    expect(splitGlued(glued).every((piece) => parseSurgardRecord(piece).ok)).toBe(true);
  });

  it('leaves a single record, garbage and partly valid runs whole', () => {
    for (const text of [CID, 'garbage', `${CID}garbage`, `garbage${CID}`, `${CID}5011 18`, '', HEARTBEAT]) {
      expect(splitGlued(text)).toEqual([text]);
    }
  });

  it('does not cut a long account into a record and a rest', () => {
    expect(parseSurgardRecord(LONG_ACCOUNT.slice(0, 20))).toMatchObject({ ok: true, record: { account: '1234' } });
    expect(splitGlued(LONG_ACCOUNT)).toEqual([LONG_ACCOUNT]);
    const framer = new SurgardFramer();
    expect(feed(framer, [latin1(LONG_ACCOUNT)]).records).toEqual([]);
    expect(feed(framer, [latin1('\x14')]).records).toEqual([LONG_ACCOUNT]);
  });
});

describe('chunking', () => {
  const stream = Buffer.concat([
    withTerminator(CID),
    withTerminator(HEARTBEAT, 'cr'),
    latin1('\n'),
    withTerminator(SIA),
    withTerminator(CID_3),
    withTerminator(`${CID}${CID}`),
    withTerminator(buildSurgardHeartbeat({ line: '001' })),
    withTerminator(buildSurgardSia({ receiver: 12, line: '003', data: 'Nri2/CL501' }), 'cr'),
    // A record whose first 20 characters are a record too (account 12341 read as 1234 + tail 1E1300101).
    withTerminator(LONG_ACCOUNT),
  ]);
  const expected = [CID, HEARTBEAT, SIA, CID_3, CID, CID, buildSurgardHeartbeat({ line: '001' }), 'S12003[Nri2/CL501]', LONG_ACCOUNT];

  it('gives the same records when split at every offset', () => {
    for (let i = 0; i <= stream.length; i++) {
      const out = feed(new SurgardFramer(), [stream.subarray(0, i), stream.subarray(i)]);
      expect(out.records, `split at ${i}`).toEqual(expected);
      expect(out.junkBytes).toBe(0);
    }
  });

  it('gives the same records one byte at a time', () => {
    const pieces = [...stream].map((b) => Buffer.from([b]));
    expect(feed(new SurgardFramer(), pieces).records).toEqual(expected);
  });
});

describe('buffer cap', () => {
  it('drops an unterminated record that passes the cap, up to its terminator, then resumes', () => {
    const framer = new SurgardFramer({ maxRecordBytes: 32 });
    const first = framer.push(latin1('X'.repeat(40)));
    expect(first).toMatchObject({ records: [], overflowed: true, junkBytes: 40 });
    expect(framer.bufferedBytes).toBe(0);
    const second = framer.push(latin1(`YYYY\x14${CID}\x14`));
    expect(texts(second.records)).toEqual([CID]);
    expect(second).toMatchObject({ overflowed: false, junkBytes: 4 });
  });

  it('drops a terminated record longer than the cap', () => {
    const out = feed(new SurgardFramer({ maxRecordBytes: 32 }), [latin1(`${'Z'.repeat(33)}\x14${SIA}\x14`)]);
    expect(out).toEqual({ records: [SIA], junkBytes: 33, overflowed: true });
  });

  it('defaults to 1024 bytes and accepts exactly the cap', () => {
    const exact = 'A'.repeat(1024);
    const framer = new SurgardFramer();
    expect(feed(framer, [latin1('A'.repeat(1024))]).overflowed).toBe(false);
    expect(feed(framer, [latin1('A')]).overflowed).toBe(true);
    expect(feed(new SurgardFramer(), [withTerminator(exact)]).records).toHaveLength(1);
  });

  it('rejects a bad cap', () => {
    expect(() => new SurgardFramer({ maxRecordBytes: 0 })).toThrow(RangeError);
    expect(() => new SurgardFramer({ maxRecordBytes: 1.5 })).toThrow(RangeError);
  });

  it('reset drops what is held', () => {
    const framer = new SurgardFramer();
    framer.push(latin1('5011 18'));
    framer.reset();
    expect(texts(framer.push(withTerminator(CID)).records)).toEqual([CID]);
  });
});
