// Accounts: every configured or seen account, last seen first-class; one account's recent events and raw frames.
import { ago, clock, empty, getJson, h, pill } from './dom.js';

const SUPERVISION_TONE = { ok: 'ok', failed: 'bad', off: '' };

function row(a) {
  return h(
    'tr',
    {
      class: 'clickable',
      'data-account': a.account,
      onclick: () => {
        location.hash = `#/accounts/${encodeURIComponent(a.account)}`;
      },
    },
    h('td', { class: 'mono' }, a.account),
    h(
      'td',
      { class: 'last-seen', title: a.lastSeen ?? '' },
      a.lastSeen ? `${ago(a.lastSeen)} (${clock(a.lastSeen)})` : h('span', { class: 'muted' }, 'never'),
    ),
    h('td', { class: 'mono' }, a.peer ?? ''),
    h(
      'td',
      {},
      pill(
        a.supervision === 'off' ? 'not supervised' : a.supervision === 'failed' ? 'comm failure' : 'reporting',
        SUPERVISION_TONE[a.supervision],
      ),
    ),
    h('td', { class: 'num' }, String(a.eventsToday)),
    h('td', {}, a.encrypted ? 'AES' : h('span', { class: 'muted' }, 'clear')),
    h('td', {}, a.configured ? (a.locationId ?? '') : pill('not configured', 'warn')),
  );
}

export async function accountsPage() {
  const accounts = await getJson('/api/accounts');
  const tbody = h('tbody');
  const search = h('input', { type: 'search', placeholder: 'Search account, peer or location…', 'aria-label': 'search accounts' });
  const show = () => {
    const q = search.value.trim().toLowerCase();
    const shown = accounts.filter((a) => !q || [a.account, a.peer, a.locationId].some((v) => v && v.toLowerCase().includes(q)));
    tbody.replaceChildren(...shown.map(row));
  };
  search.addEventListener('input', show);
  show();
  const table = h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['account', 'last seen', 'peer', 'supervision', 'events today', 'encryption', 'location'].map((t) =>
          h('th', { class: t === 'events today' ? 'num' : null }, t),
        ),
      ),
    ),
    tbody,
  );
  return {
    element: h(
      'div',
      {},
      h('h1', {}, `Accounts (${accounts.length})`),
      search,
      accounts.length ? table : empty('No accounts configured or seen yet.'),
    ),
  };
}

function eventRow(e) {
  return h(
    'tr',
    {},
    h('td', { class: 'mono' }, clock(e.at)),
    h('td', { class: 'mono' }, e.code),
    h('td', {}, e.description),
    h('td', {}, e.zone ?? ''),
    h(
      'td',
      {},
      e.forwarded
        ? pill(e.outcome, 'ok')
        : h('span', {}, pill(e.outcome, 'warn'), e.configKey ? h('div', {}, 'add ', h('code', { class: 'key' }, e.configKey)) : null),
    ),
  );
}

function frameRow(f) {
  const tone = f.reply === 'ACK' ? 'ok' : f.reply === 'none' ? '' : 'bad';
  return h(
    'tr',
    {},
    h('td', { class: 'mono' }, clock(f.at)),
    h('td', {}, pill(f.reply, tone), ' ', h('span', { class: 'muted' }, f.reason)),
    h('td', { class: 'mono' }, f.decoded.ok ? (f.decoded.data ?? '') : h('span', { class: 'muted' }, f.decoded.error?.message ?? '')),
    h('td', {}, h('details', {}, h('summary', { class: 'mono' }, f.raw), h('pre', {}, JSON.stringify(f.decoded, null, 2)))),
  );
}

export async function accountPage(account) {
  const a = await getJson(`/api/accounts/${encodeURIComponent(account)}`);
  const facts = h(
    'dl',
    { class: 'kv' },
    h('dt', {}, 'last seen'),
    h('dd', { class: 'last-seen' }, a.lastSeen ? `${ago(a.lastSeen)} (${clock(a.lastSeen)})` : 'never'),
    h('dt', {}, 'peer'),
    h('dd', { class: 'mono' }, a.peer ?? '—'),
    h('dt', {}, 'supervision'),
    h('dd', {}, a.supervision),
    h('dt', {}, 'events today'),
    h('dd', {}, String(a.eventsToday)),
    h('dt', {}, 'encryption'),
    h('dd', {}, a.encrypted ? 'AES' : 'clear text'),
    h('dt', {}, 'configured'),
    h('dd', {}, a.configured ? `yes (location ${a.locationId ?? 'not set'})` : 'no: add it under accounts in the configuration'),
  );
  return {
    element: h(
      'div',
      {},
      h('h1', {}, h('a', { href: '#/accounts' }, 'Accounts'), ' / ', h('span', { class: 'mono' }, a.account)),
      h('div', { class: 'card' }, facts),
      h('h2', { class: 'section' }, 'Recent events'),
      a.events.length
        ? h(
            'table',
            { class: 'events' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['time', 'code', 'description', 'zone', 'outcome'].map((t) => h('th', {}, t)),
              ),
            ),
            h('tbody', {}, a.events.map(eventRow)),
          )
        : empty('No events since the bridge started.'),
      h('h2', { class: 'section' }, 'Raw frames (decoded as alarm-bridge decode shows them)'),
      a.frames.length
        ? h(
            'table',
            { class: 'frames' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['time', 'reply', 'data', 'frame (click: decoded)'].map((t) => h('th', {}, t)),
              ),
            ),
            h('tbody', {}, a.frames.map(frameRow)),
          )
        : empty('No frames since the bridge started.'),
    ),
  };
}
