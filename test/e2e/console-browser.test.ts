/**
 * The operator console in a real browser (Debian's chromium driven by puppeteer-core; nothing downloads a browser):
 * a bridge started as `serve` with an outbox and a console on 127.0.0.2 behind `http.auth`, frames sent with
 * `replay`. Checks the account with its last-seen time, the live stream, a dead letter re-queued by its Retry button
 * after the config is fixed, that no configured secret reaches the page or its JSON, and that a request without the
 * credentials is refused. A screenshot of each page lands in the test's temporary directory
 * (ALARM_BRIDGE_CONSOLE_SCREENSHOTS=dir also copies them there: docs/console.png is the overview's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRequest } from '../../src/protocols/dc09/index.js';
import { escapeFrame } from '../../src/protocols/escape.js';
import { CONTROL_TOKEN_FILE } from '../../src/server/ops/control-token.js';
import { runCli } from '../cli/run-cli.js';
import { freePort } from '../server/harness.js';
import { until } from './api-harness.js';

const BIN = new URL('../../bin/alarm-bridge.js', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const AES_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const SNAPSHOT_PASSWORD = 'snapshot-secret-7a1c';
const CONSOLE_PASSWORD = 'console-password-93f2e1';
const HOST = '127.0.0.2';

let dir: string;
let configPath: string;
let config: Record<string, any>;
let child: ChildProcess;
let browser: Browser;
let page: Page;
let base: string;
let panelPort: number;
const lines: string[] = [];

const logged = async (pattern: RegExp, after = 0) => {
  await until(() => lines.slice(after).some((l) => pattern.test(l)), 15_000);
  return lines.slice(after).find((l) => pattern.test(l))!;
};

const basicAuth = `Basic ${Buffer.from(`operator:${CONSOLE_PASSWORD}`).toString('base64')}`;

async function get(path: string, headers: Record<string, string> = { authorization: basicAuth }) {
  const res = await request(`${base}${path}`, { headers });
  return { status: res.statusCode, text: await res.body.text() };
}

async function shoot(name: string): Promise<string> {
  const file = join(dir, `console-${name}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  if (process.env.ALARM_BRIDGE_CONSOLE_SCREENSHOTS)
    await copyFile(file, join(process.env.ALARM_BRIDGE_CONSOLE_SCREENSHOTS, `console-${name}.png`));
  return file;
}

/** The page's document, as the function run in the browser sees it (this project compiles without the DOM types). */
type InPage = { document: { body: { innerText: string } } };

/** Waits until the page's visible text matches. */
async function pageShows(pattern: RegExp, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (source: string, flags: string) => new RegExp(source, flags).test((globalThis as unknown as InPage).document.body.innerText),
    { timeout },
    pattern.source,
    pattern.flags,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-browser-'));
  configPath = join(dir, 'bridge.json');
  await writeFile(join(dir, 'console.password'), `${CONSOLE_PASSWORD}\n`, { mode: 0o600 });
  config = {
    listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
    accounts: {
      '1234': {
        key: AES_KEY,
        keyEncoding: 'hex',
        locationId: 'LOC-1',
        cameraId: 'CAM-1',
        snapshotUrl: 'http://192.0.2.10/snap.jpg',
        snapshotUsername: 'cam',
        snapshotPassword: SNAPSHOT_PASSWORD,
      },
      // No camera: its zone 7 event waits as an `unmapped-camera` dead letter until the zone's cameraId is added.
      '5555': { locationId: 'LOC-5' },
    },
    outbox: { dir: 'outbox' },
    sink: { type: 'file', path: 'events.ndjson' },
    http: { host: HOST, port: await freePort(), auth: { user: 'operator', passwordFile: 'console.password' } },
    log: { level: 'info' },
  };
  await writeFile(configPath, JSON.stringify(config));
  child = spawn(process.execPath, [BIN, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  panelPort = Number(/"port":(\d+)/.exec(await logged(/"msg":"listening"/))![1]);
  await logged(/status server listening/);
  base = `http://${HOST}:${config.http.port}`;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.authenticate({ username: 'operator', password: CONSOLE_PASSWORD });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  child?.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

describe('operator console in chromium', () => {
  it('shows live events, accounts with last seen, dead letters that Retry re-queues, and no secret', async () => {
    await page.goto(`${base}/#/live`);
    await pageShows(/connected/);

    const frames = [
      buildRequest({
        token: 'SIA-DCS',
        sequence: '0001',
        line: '0',
        account: '1234',
        data: '#1234|NBA1',
        key: Buffer.from(AES_KEY, 'hex'),
        timestamp: new Date(),
      }),
      buildRequest({ token: 'SIA-DCS', sequence: '0002', line: '0', account: '5555', data: '#5555|NFA7', timestamp: new Date() }),
    ];
    const capture = join(dir, 'capture.txt');
    await writeFile(capture, `${frames.map((f) => escapeFrame(f)).join('\n')}\n`);
    const replay = await runCli(['replay', capture, '--to', `127.0.0.1:${panelPort}`]);
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);

    // Live: both events as they happened, the one without a camera with the key to add.
    await page.waitForSelector('#live tr.live-row.event');
    await pageShows(/1234[\s\S]*BA[\s\S]*Burglary/i);
    await pageShows(/5555[\s\S]*FA[\s\S]*unmapped-camera[\s\S]*accounts\["5555"\]\.zones\["7"\]\.cameraId/);
    const shots = [await shoot('live')];

    // Accounts: last seen filled in; the search box narrows the list.
    await page.goto(`${base}/#/accounts`);
    await page.waitForSelector('tr[data-account="1234"]');
    const lastSeen = await page.$eval('tr[data-account="1234"] td.last-seen', (td) => td.textContent ?? '');
    expect(lastSeen).toMatch(/\d+ s ago \(\d\d:\d\d:\d\d\)/);
    expect(await page.$eval('tr[data-account="1234"]', (tr) => tr.textContent)).toMatch(/AES/);
    await page.type('input[type=search]', '5555');
    await until(async () => (await page.$$('tbody tr')).length === 1, 5000);
    expect(await page.$('tr[data-account="5555"]')).not.toBeNull();
    shots.push(await shoot('accounts'));

    // One account: its event and its raw frame decoded (the encrypted one shows its decrypted data).
    await page.goto(`${base}/#/accounts/1234`);
    await page.waitForSelector('table.frames');
    await pageShows(/Burglary alarm/i);
    await page.click('table.frames summary');
    await pageShows(/"data": "#1234\|NBA1"/);
    shots.push(await shoot('account'));

    // Overview: the frames in the chart's counts, the outbox, the replies.
    await page.goto(`${base}/#/overview`);
    await pageShows(/2 in the last hour/);
    await pageShows(/ACK\s*2/);
    shots.push(await shoot('overview'));

    // Dead letters: the unmapped-camera event with the exact key; after the fix and a SIGHUP, Retry re-queues it.
    await page.goto(`${base}/#/dead-letters`);
    await page.waitForSelector('#dead-letters tbody tr');
    const row = await page.$eval('#dead-letters tbody tr', (tr) => tr.textContent ?? '');
    expect(row).toMatch(/5555/);
    expect(row).toMatch(/unmapped-camera/);
    expect(row).toMatch(/accounts\["5555"\]\.zones\["7"\]\.cameraId/);
    shots.push(await shoot('dead-letters'));
    config.accounts['5555'].zones = { '7': { cameraId: 'CAM-5' } };
    await writeFile(configPath, JSON.stringify(config));
    const before = lines.length;
    child.kill('SIGHUP');
    await logged(/configuration reloaded/, before);
    await page.click('#dead-letters button.retry');
    await pageShows(/Re-queued/);
    await pageShows(/No dead letters/);
    await until(async () => (await readFile(join(dir, 'events.ndjson'), 'utf8').catch(() => '')).includes('"CAM-5"'), 10_000);

    // No configured secret anywhere the page can reach: the pages as rendered and every JSON they read.
    const controlToken = (await readFile(join(dir, 'outbox', CONTROL_TOKEN_FILE), 'utf8')).trim();
    const secrets = [AES_KEY, AES_KEY.toUpperCase(), SNAPSHOT_PASSWORD, CONSOLE_PASSWORD, controlToken];
    const seen: string[] = [];
    for (const hash of ['#/overview', '#/accounts', '#/accounts/1234', '#/live', '#/dead-letters']) {
      await page.goto(`${base}/${hash}`);
      await page.waitForSelector('main h1');
      seen.push(await page.content());
    }
    for (const path of ['/', '/api/overview', '/api/accounts', '/api/accounts/1234', '/api/accounts/5555', '/api/dead-letters'])
      seen.push((await get(path)).text);
    for (const text of seen) for (const secret of secrets) expect(text).not.toContain(secret);
    expect(seen.join('\n')).toContain('1234'); // the pages did hold the accounts
    expect(shots).toHaveLength(5);
  }, 90_000);

  it('refuses a request without the credentials (the console is on 127.0.0.2 with http.auth)', async () => {
    for (const path of ['/', '/console/app.js', '/api/overview', '/api/events', '/metrics']) {
      const res = await get(path, {});
      expect(res.status, path).toBe(401);
      expect(res.text).not.toContain('1234');
    }
    expect(
      (await get('/api/overview', { authorization: `Basic ${Buffer.from(`operator:wrong-password`).toString('base64')}` })).status,
    ).toBe(401);
    expect(
      (await get('/api/overview', { authorization: `Basic ${Buffer.from(`intruder:${CONSOLE_PASSWORD}`).toString('base64')}` })).status,
    ).toBe(401);
    expect((await get('/healthz', {})).status).toBe(200);
    expect((await get('/api/overview')).status).toBe(200);
    // An action with the credentials but without the page's CSRF token is refused too.
    const post = await request(`${base}/api/dead-letters/retry`, {
      method: 'POST',
      headers: { authorization: basicAuth, 'content-type': 'application/json' },
      body: '{"ids":["x"]}',
    });
    expect(post.statusCode).toBe(403);
    await post.body.dump();
  });
});
