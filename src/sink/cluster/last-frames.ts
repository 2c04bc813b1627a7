/**
 * The accounts' last accepted frames in the state bucket (docs/cluster.md §4): key `last.<account>`, value the
 * frame's digest and arrival time. A bucket that does not answer leaves the decision to this instance's memory, with a
 * rate-limited warning: a copy may then be stored twice, an alarm is never lost.
 */
import { describeError, type Logger } from '../../log.js';
import { RateLimitedWarn } from '../../server/ops/rate-limited-log.js';
import type { LastFrame, LastFrameStore } from '../../server/pipeline/duplicates.js';
import { answerWithin, entryObject, STATE_ANSWER_MS, stateKey } from './state-bucket.js';
import type { ClusterStores } from './streams.js';

export class KvLastFrames implements LastFrameStore {
  private readonly warn: RateLimitedWarn;

  constructor(
    private readonly stores: Pick<ClusterStores, 'state'>,
    logger: Logger,
    private readonly answerMs = STATE_ANSWER_MS,
  ) {
    this.warn = new RateLimitedWarn(logger);
  }

  async get(account: string): Promise<LastFrame | null | 'unknown'> {
    try {
      const value = entryObject(await answerWithin(this.stores.state.get(stateKey('last', account)), this.answerMs));
      return value && typeof value.digest === 'string' && typeof value.atMs === 'number'
        ? { digest: value.digest, atMs: value.atMs }
        : null;
    } catch (err) {
      this.failed(account, err, 'read');
      return 'unknown';
    }
  }

  async set(account: string, frame: LastFrame): Promise<void> {
    try {
      await answerWithin(this.stores.state.put(stateKey('last', account), JSON.stringify(frame)), this.answerMs);
    } catch (err) {
      this.failed(account, err, 'written');
    }
  }

  private failed(account: string, err: unknown, what: 'read' | 'written'): void {
    this.warn.warn(
      'state-bucket-last-frame',
      { account, err: describeError(err) },
      `the account's last frame could not be ${what} in the state bucket: copies of frames without a timestamp are recognised by this instance alone`,
    );
  }
}
