// Dead letters: why each event is held and the configuration key that would let it through; retry or discard.
import { ago, clock, empty, getJson, h, pill, postJson } from './dom.js';

async function act(kind, id, notice, reload) {
  if (kind === 'discard' && !confirm(`Discard ${id}? The event will not be delivered.`)) return;
  try {
    const answer = await postJson(`/api/dead-letters/${kind}`, { ids: [id] });
    notice.textContent =
      kind === 'retry'
        ? answer.requeued > 0
          ? `Re-queued ${id}.`
          : `Still not deliverable: ${(answer.skipped ?? []).map((s) => (s.configKey ? `add ${s.configKey}` : s.reason)).join(', ')}`
        : `Discarded ${id}.`;
  } catch (err) {
    notice.textContent = `${kind} failed: ${err.message}`;
  }
  await reload();
}

export async function deadLettersPage() {
  const notice = h('div', { class: 'notice', hidden: true });
  const body = h('div');
  const reload = async () => {
    const { outbox, letters, limit } = await getJson('/api/dead-letters');
    notice.hidden = notice.textContent === '';
    if (!outbox) return body.replaceChildren(empty('No outbox configured: nothing is kept as a dead letter.'));
    if (letters.length === 0) return body.replaceChildren(empty('No dead letters.'));
    const rows = letters.map((l) =>
      h(
        'tr',
        { 'data-id': l.id },
        h('td', { class: 'mono' }, clock(l.deadAt), h('div', { class: 'muted' }, ago(l.deadAt))),
        h('td', { class: 'mono' }, l.account),
        h('td', {}, pill(l.reason, 'warn'), l.detail ? h('div', { class: 'muted' }, l.detail) : null),
        h('td', {}, l.configKey ? h('code', { class: 'key' }, l.configKey) : h('span', { class: 'muted' }, '—')),
        h('td', { class: 'mono muted' }, l.id),
        h(
          'td',
          { class: 'actions' },
          h('button', { class: 'primary retry', onclick: () => act('retry', l.id, notice, reload) }, 'Retry'),
          ' ',
          h('button', { class: 'danger discard', onclick: () => act('discard', l.id, notice, reload) }, 'Discard'),
        ),
      ),
    );
    const table = h(
      'table',
      { id: 'dead-letters' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['dead since', 'account', 'reason', 'config key to add', 'event id', ''].map((t) => h('th', {}, t)),
        ),
      ),
      h('tbody', {}, rows),
    );
    body.replaceChildren(
      table,
      ...(letters.length >= limit
        ? [h('p', { class: 'muted' }, `The first ${limit} shown; alarm-bridge outbox list --dead lists them all.`)]
        : []),
    );
  };
  await reload();
  return {
    element: h(
      'div',
      {},
      h('h1', {}, 'Dead letters'),
      h(
        'p',
        { class: 'muted' },
        'Add the configuration key shown, reload the bridge (SIGHUP), then Retry: the event is mapped again with its original id.',
      ),
      notice,
      body,
    ),
  };
}
