// The console's shell: a hash router over four pages, the readiness pill, and one live stream for the whole page.
import { h } from './dom.js';
import { overviewPage } from './overview.js';
import { accountsPage, accountPage } from './accounts.js';
import { livePage } from './live.js';
import { deadLettersPage } from './dead-letters.js';

/** Events and rejections received since the page opened (newest first), kept while switching pages. */
export const live = { items: [], listeners: new Set(), connected: false };
const LIVE_KEPT = 500;

function connectLive() {
  const source = new EventSource('/api/events');
  const add = (e) => {
    live.items.unshift(JSON.parse(e.data));
    if (live.items.length > LIVE_KEPT) live.items.length = LIVE_KEPT;
    for (const listener of live.listeners) listener();
  };
  source.addEventListener('event', add);
  source.addEventListener('rejection', add);
  source.onopen = () => {
    live.connected = true;
    for (const l of live.listeners) l();
  };
  source.onerror = () => {
    live.connected = false;
    for (const l of live.listeners) l();
  };
}

const ROUTES = [
  [/^#\/accounts\/(.+)$/, (m) => accountPage(decodeURIComponent(m[1])), 'accounts'],
  [/^#\/accounts$/, () => accountsPage(), 'accounts'],
  [/^#\/live$/, () => livePage(live), 'live'],
  [/^#\/dead-letters$/, () => deadLettersPage(), 'dead-letters'],
  [/^/, () => overviewPage(), 'overview'],
];

let stopCurrent = null;

async function route() {
  stopCurrent?.();
  stopCurrent = null;
  const [pattern, render, nav] = ROUTES.find(([p]) => p.test(location.hash));
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === nav);
  const main = document.getElementById('page');
  try {
    const page = await render(location.hash.match(pattern));
    main.replaceChildren(page.element);
    stopCurrent = page.stop ?? null;
  } catch (err) {
    main.replaceChildren(h('div', { class: 'empty' }, `Could not load this page: ${err.message}`));
  }
}

async function readiness() {
  const el = document.getElementById('readiness');
  try {
    const res = await fetch('/readyz');
    el.textContent = res.ok ? 'ready' : 'not ready';
    el.className = `pill ${res.ok ? 'ok' : 'bad'}`;
  } catch {
    el.textContent = 'unreachable';
    el.className = 'pill bad';
  }
}

window.addEventListener('hashchange', route);
connectLive();
route();
readiness();
setInterval(readiness, 5000);
