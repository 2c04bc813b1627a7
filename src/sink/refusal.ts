/** A durable log's refusal to take events (the contract is in durable-log.ts): the receiver answers NAK. */
/**
 * Why a log did not take events. `log-full`, `queue-full`: no room (the panel keeps the event and retries);
 * `delivery-timeout`, `delivery-failed`: `ackAfter: "delivered"` and the API did not take them in time, or refused
 * them; `write-failed`: the log's own write failed; `store-unavailable`: the replicated store of cluster mode did not answer
 * (publish timeout, no quorum, NATS unreachable; docs/cluster.md §3); `closed`: the log is closing or read-only.
 */
export type Refusal = 'log-full' | 'queue-full' | 'delivery-timeout' | 'delivery-failed' | 'write-failed' | 'store-unavailable' | 'closed';

/** A log's refusal to take events: the receiver answers NAK. */
export class RefusalError extends Error {
  override readonly name: string = 'RefusalError';
  constructor(
    readonly refusal: Refusal,
    message: string,
    /** The events stay in the log and will be delivered: a retransmission must not append them again. */
    readonly stored = false,
  ) {
    super(message);
  }
}
