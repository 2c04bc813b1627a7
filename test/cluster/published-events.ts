/**
 * Every event a cluster's bridges publish, as a plain NATS subscriber on the events subjects sees them: each
 * publication counts, including a copy the stream would drop by its message id, so "one publication" means no
 * instance published the event twice.
 */
export interface PublishedEvent {
  msgId: string | undefined;
  account: string;
  body: { event_id: string; event_type: string; event_status: string; payload: { code?: string } };
}

export interface Publications {
  readonly events: PublishedEvent[];
  /** Publications whose payload code is `code` (SIA or Contact ID as mapped). */
  withCode(code: string): PublishedEvent[];
  close(): Promise<void>;
}

export async function watchPublications(urls: string[], stream: string): Promise<Publications> {
  const { connect } = await import('@nats-io/transport-node');
  const nc = await connect({ servers: urls });
  const subscription = nc.subscribe(`${stream}.events.>`);
  const events: PublishedEvent[] = [];
  void (async () => {
    for await (const m of subscription) events.push({ msgId: m.headers?.get('Nats-Msg-Id'), ...m.json<Omit<PublishedEvent, 'msgId'>>() });
  })();
  await nc.flush();
  return {
    events,
    withCode: (code) => events.filter((e) => e.body.payload.code === code),
    close: () => nc.close(),
  };
}
