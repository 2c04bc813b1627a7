// Overview: rates and backlog first, then the chart, replies, deliveries and listeners. Refreshed every 5 s.
import { ago, clock, duration, getJson, h, pill } from './dom.js';
import { rateChart } from './chart.js';

const stat = (title, value, unit, note) =>
  h(
    'div',
    { class: 'card' },
    h('h2', {}, title),
    h('div', { class: 'stat' }, value, unit ? h('small', {}, unit) : null),
    note ? h('div', { class: 'muted' }, note) : null,
  );

/** Rate over the previous minute and the current one so far: moves at once, yet does not jump at each minute. */
function recent(o) {
  const current = o.minutes.at(-1);
  const previous = o.minutes.at(-2);
  const seconds = 60 + Math.max(1, (Date.parse(o.now) - current.at) / 1000);
  return { fps: (previous.frames + current.frames) / seconds, epm: ((previous.events + current.events) / seconds) * 60 };
}

function render(o) {
  const rate = recent(o);
  const hour = o.minutes.reduce(
    (sum, m) => ({ frames: sum.frames + m.frames, events: sum.events + m.events, rejected: sum.rejected + m.rejected }),
    { frames: 0, events: 0, rejected: 0 },
  );
  const backlog = o.cluster
    ? stat(
        'Stream backlog',
        o.cluster.pending,
        'events',
        [
          `${o.cluster.instance} ${o.cluster.role}`,
          o.cluster.pending > 0 ? `oldest ${duration(o.cluster.oldestAgeSeconds)}` : '',
          o.cluster.connected ? '' : 'NATS disconnected',
        ]
          .filter(Boolean)
          .join(' · '),
      )
    : o.outbox
      ? stat(
          'Outbox backlog',
          o.outbox.depth,
          'events',
          o.outbox.depth > 0 ? `oldest ${duration(o.outbox.oldestAgeSeconds)} · ${o.outbox.state}` : `state ${o.outbox.state}`,
        )
      : stat('Outbox', '—', '', 'none configured');
  const delivery = o.lastDelivery
    ? h(
        'div',
        {},
        pill(o.lastDelivery.outcome, o.lastDelivery.ok ? 'ok' : 'bad'),
        ' ',
        h('span', { class: 'muted' }, ago(o.lastDelivery.at)),
        h('div', { class: 'muted mono' }, o.lastDelivery.detail),
      )
    : h('span', { class: 'muted' }, 'nothing delivered yet');
  const token = o.token
    ? h('div', {}, pill(o.token.ok ? 'obtained' : 'failed', o.token.ok ? 'ok' : 'bad'), ' ', h('span', { class: 'muted' }, ago(o.token.at)))
    : h('span', { class: 'muted' }, o.sink === 'file' ? 'file sink: no token' : 'no token requested yet');
  const replies = ['ACK', 'NAK', 'DUH'].map((kind) =>
    h('tr', {}, h('td', {}, kind), h('td', { class: 'num' }, String(o.replies[kind] ?? 0))),
  );
  const checks = Object.entries(o.checks).map(([name, c]) =>
    h(
      'tr',
      {},
      h('td', {}, name),
      h('td', {}, pill(c.ok ? 'ok' : 'failing', c.ok ? 'ok' : 'bad')),
      h('td', { class: 'muted' }, c.detail ?? ''),
    ),
  );
  return h(
    'div',
    {},
    h('h1', {}, 'Overview'),
    h(
      'div',
      { class: 'grid' },
      stat('Frames', rate.fps.toFixed(2), '/s', `${hour.frames} in the last hour`),
      stat('Events', rate.epm.toFixed(1), '/min', `${hour.events} in the last hour`),
      stat('Rejected', hour.rejected, 'last hour', 'NAK / DUH answers'),
      backlog,
      stat('Dead letters', o.outbox ? o.outbox.deadLetters : '—', '', h('a', { href: '#/dead-letters' }, 'review')),
      stat(
        'Accounts',
        o.accounts.configured,
        'configured',
        o.accounts.inFailure > 0 ? h('span', { class: 'pill bad' }, `${o.accounts.inFailure} in comm failure`) : 'none in comm failure',
      ),
    ),
    h(
      'div',
      { class: 'card wide chart' },
      h('h2', {}, 'Last hour'),
      rateChart(o.minutes),
      h(
        'div',
        { class: 'legend' },
        h('span', {}, h('span', { class: 'swatch frames' }), 'frames per second'),
        h('span', {}, h('span', { class: 'swatch events' }), 'events per minute'),
      ),
    ),
    h(
      'div',
      { class: 'grid' },
      h('div', { class: 'card' }, h('h2', {}, 'Last delivery'), delivery),
      h('div', { class: 'card' }, h('h2', {}, 'API token'), token),
      h('div', { class: 'card' }, h('h2', {}, 'Replies since start'), h('table', {}, h('tbody', {}, replies))),
    ),
    h(
      'div',
      { class: 'grid' },
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Listeners'),
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'protocol'), h('th', {}, 'transport'), h('th', {}, 'address'))),
          h(
            'tbody',
            {},
            o.listeners.map((l) =>
              h('tr', {}, h('td', {}, l.protocol), h('td', {}, l.transport), h('td', { class: 'mono' }, `${l.host}:${l.port}`)),
            ),
          ),
        ),
      ),
      h('div', { class: 'card' }, h('h2', {}, `Readiness (${clock(o.now)})`), h('table', {}, h('tbody', {}, checks))),
    ),
  );
}

export async function overviewPage() {
  const element = h('div', {}, render(await getJson('/api/overview')));
  const timer = setInterval(async () => {
    try {
      element.replaceChildren(render(await getJson('/api/overview')));
    } catch {
      // The next refresh tries again; the readiness pill shows the server is gone.
    }
  }, 5000);
  return { element, stop: () => clearInterval(timer) };
}
