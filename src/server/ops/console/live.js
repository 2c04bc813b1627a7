// Live events: mapped events and rejections as the bridge sees them (Server-Sent Events), newest first.
import { clock, empty, h, pill } from './dom.js';

function row(item) {
  if (item.kind === 'rejection') {
    return h(
      'tr',
      { class: 'live-row rejection' },
      h('td', { class: 'mono' }, clock(item.at)),
      h('td', { class: 'mono' }, item.account ?? '?'),
      h('td', {}, pill(item.reply, 'bad')),
      h('td', {}, item.reason),
      h('td', { class: 'mono muted' }, `${item.transport} ${item.peer}`),
    );
  }
  return h(
    'tr',
    { class: `live-row event${item.forwarded ? '' : ' not-forwarded'}` },
    h('td', { class: 'mono' }, clock(item.at)),
    h('td', { class: 'mono' }, item.account),
    h(
      'td',
      {},
      h('span', { class: 'mono' }, item.code),
      ' ',
      item.description,
      item.zone ? h('span', { class: 'muted' }, ` · zone ${item.zone}`) : null,
    ),
    h(
      'td',
      {},
      item.forwarded
        ? pill(item.outcome, 'ok')
        : h(
            'span',
            {},
            pill(item.outcome, 'warn'),
            item.configKey ? h('div', {}, 'add ', h('code', { class: 'key' }, item.configKey)) : null,
          ),
    ),
    h('td', { class: 'mono muted' }, item.peer ?? ''),
  );
}

export function livePage(live) {
  const status = h('span', { class: 'pill' });
  const body = h('div');
  const draw = () => {
    status.textContent = live.connected ? 'connected' : 'reconnecting…';
    status.className = `pill ${live.connected ? 'ok' : 'warn'}`;
    body.replaceChildren(
      live.items.length
        ? h(
            'table',
            { id: 'live' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['time', 'account', 'event', 'outcome', 'peer'].map((t) => h('th', {}, t)),
              ),
            ),
            h('tbody', {}, live.items.map(row)),
          )
        : empty('Waiting for events… (events and rejections appear here as they happen)'),
    );
  };
  draw();
  live.listeners.add(draw);
  return {
    element: h('div', {}, h('div', { class: 'toolbar' }, h('h1', {}, 'Live events'), status), body),
    stop: () => live.listeners.delete(draw),
  };
}
