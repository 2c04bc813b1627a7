import { describe, expect, it } from 'vitest';
import { LUPUSEC_MAX_MESSAGE, LupusecFramer } from '../../../src/protocols/lupusec/index.js';

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const texts = (messages: Buffer[]) => messages.map((m) => m.toString('latin1'));

describe('LupusecFramer (docs/contact-id.md §5)', () => {
  it('cuts [ … ] messages; blanks between them are not junk', () => {
    const out = new LupusecFramer().push(latin1('[test 18160201010B]\r\n [1234 18113001015A]\x00'));
    expect(texts(out.messages)).toEqual(['[test 18160201010B]', '[1234 18113001015A]']);
    expect(out.junkBytes).toBe(0);
  });

  it('holds a message split across chunks', () => {
    const framer = new LupusecFramer();
    expect(framer.push(latin1('[test 1816')).messages).toEqual([]);
    expect(framer.bufferedBytes).toBe(10);
    expect(texts(framer.push(latin1('0201010B]')).messages)).toEqual(['[test 18160201010B]']);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('drops and counts bytes outside brackets, and an unfinished message restarted by "["', () => {
    const out = new LupusecFramer().push(latin1('xy[abc[test 18160201010B]z'));
    expect(texts(out.messages)).toEqual(['[test 18160201010B]']);
    expect(out.junkBytes).toBe(2 + 4 + 1);
  });

  it('cuts a message at the cap and drops the rest of it up to its "]"', () => {
    const framer = new LupusecFramer();
    const long = `[${'x'.repeat(100)}]`;
    const out = framer.push(latin1(`${long}[test 18160201010B]`));
    expect(texts(out.messages)).toEqual([long.slice(0, LUPUSEC_MAX_MESSAGE), '[test 18160201010B]']);
    expect(out.junkBytes).toBe(long.length - LUPUSEC_MAX_MESSAGE);
    expect(framer.bufferedBytes).toBe(0);
  });
});
