/**
 * Reading a stream's messages in order without a consumer (docs/cluster.md §6): the events stream has work-queue
 * retention, where a second consumer would take messages away from delivery, so the operator's views walk the
 * stream with "next message at or after this sequence" requests instead; gaps left by acknowledged or removed
 * messages cost nothing.
 */
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';

/** The stream's messages from its first on, at most `limit`. */
export async function* readStream(jsm: JetStreamManager, stream: string, limit = Number.POSITIVE_INFINITY): AsyncGenerator<StoredMsg> {
  let seq = 1;
  for (let n = 0; n < limit; n++) {
    // next_by_subj is understood by the server's plain message get (2.9 on); the client's type names only seq or last_by_subj.
    const query = { seq, next_by_subj: '>' } as unknown as { seq: number };
    const msg = await jsm.streams.getMessage(stream, query);
    if (msg === null) return;
    yield msg;
    seq = msg.seq + 1;
  }
}
