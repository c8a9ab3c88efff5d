// End to end: Playwright drives Debian's Chromium against quicscope's web mode (its own process),
// connected to real QUIC servers on loopback — quicscope's local server and ngtcp2's gtlsserver.
// Checks what a user sees: the handshake, charts, an HTTP/3 body, raw stream and DATAGRAM echoes, a DNS error,
// and the qlog and pcapng exports (parsed; tshark decrypts the capture). Saves the README
// screenshots, and records long tasks during a 100 MiB download (reported, never asserted).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import {
  SCREENSHOT_DIR,
  chromiumAvailable,
  ensureRendererBuilt,
  launchChromium,
  openPage,
  type BrowserHandle,
  type PageProblems,
} from './helpers/browser.ts';
import {
  ngtcp2Available,
  startNgtcp2,
  startWebMode,
  type Ngtcp2Server,
  type WebMode,
} from './helpers/servers.ts';

const skip = chromiumAvailable() ? false : 'Chromium is not installed (apt-get install chromium)';
const noTshark =
  spawnSync('sh', ['-c', 'command -v tshark']).status !== 0 ? 'tshark is not installed' : false;
const LONG_TASK_FILE = 104_857_600;
/** README screenshots go to assets/screenshots only when asked (a test run leaves the tree clean). */
const UPDATE_SCREENSHOTS = process.env.QUICSCOPE_UPDATE_SCREENSHOTS === '1';
/** Bound on the 100 MiB download of the long-task measurement (it reports what it saw by then). */
const LONG_TASK_BUDGET_MS = 150_000;

describe('the window in web mode against real QUIC servers (Playwright, Chromium)', { skip }, () => {
  let web: WebMode;
  let browser: BrowserHandle;
  let page: Page;
  let problems: PageProblems;
  let localTarget = '';
  let work: string;
  let shots: string;

  before(async () => {
    ensureRendererBuilt();
    work = mkdtempSync(join(tmpdir(), 'quicscope-ui-'));
    shots = UPDATE_SCREENSHOTS ? SCREENSHOT_DIR : join(work, 'screenshots');
    mkdirSync(shots, { recursive: true });
    web = await startWebMode();
    browser = await launchChromium();
    ({ page, problems } = await openPage(browser.context));
    page.setDefaultTimeout(20_000);
    await page.goto(web.url);
  });

  after(async () => {
    await browser?.close();
    await web?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  const session = (): Locator => page.locator('section.session');
  const subTab = (name: string | RegExp) => page.getByRole('tab', { name }).click();
  const newConnection = async () => {
    await page.getByRole('tab', { name: '+ New connection' }).click();
    await page.getByRole('textbox', { name: 'Target' }).waitFor();
  };
  const connect = async (target: string, alpn = 'h3') => {
    await newConnection();
    await page.getByRole('textbox', { name: 'Target' }).fill(target);
    await page.getByLabel('ALPN', { exact: true }).fill(alpn);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await session().waitFor();
  };
  const established = () =>
    page.locator('[data-testid=session-state]', { hasText: 'established' }).waitFor({ timeout: 20_000 });
  const request = async (path: string): Promise<Locator> => {
    await subTab('Interact');
    await page.getByLabel('Path').fill(path);
    await page.getByRole('button', { name: 'Send request' }).click();
    return page.locator(`[data-testid=h3-response][data-path="${path}"]`).first();
  };
  const download = async (kind: string): Promise<string> => {
    const [dl] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('group', { name: 'Export' }).getByRole('button', { name: kind, exact: true }).click(),
    ]);
    const path = join(work, dl.suggestedFilename());
    await dl.saveAs(path);
    return path;
  };

  it('loads the window: the connect form, presets and the link to main are up', async () => {
    await page.getByRole('textbox', { name: 'Target' }).waitFor();
    await page.locator('.link.open').waitFor();
    assert.ok((await page.locator('.preset').count()) >= 3, 'presets listed (quic.tech, cloudflare, local)');
    await page.screenshot({ path: join(shots, 'connect.png') });
  });

  it('one click starts the local server and connects; the handshake completes with every TLS message', async () => {
    await page.getByRole('button', { name: 'Start local server and connect' }).click();
    await session().waitFor();
    await page.locator('[data-testid=handshake-status]', { hasText: 'handshake complete' }).waitFor();
    await established();
    localTarget = (await session().getByRole('heading', { level: 2 }).innerText()).split(/\s/)[0];
    assert.match(localTarget, /^127\.0\.0\.1:\d+$/);
    const messages = await page.locator('[data-testid=tls-messages] li .name').allInnerTexts();
    const order = [
      'ClientHello',
      'ServerHello',
      'EncryptedExtensions',
      'Certificate',
      'CertificateVerify',
      'Finished',
    ];
    let at = -1;
    for (const m of order) {
      const i = messages.indexOf(m, at + 1);
      assert.ok(i > at, `${m} after the previous message in ${messages.join(', ')}`);
      at = i;
    }
    const timeline = page.locator('[data-testid=handshake-timeline] tbody');
    assert.ok((await timeline.locator('tr.pkt.t-initial').count()) >= 2, 'Initial packets in the timeline');
    assert.ok(
      (await timeline.locator('tr.pkt.t-handshake').count()) >= 2,
      'Handshake packets in the timeline',
    );
    assert.ok((await timeline.locator('tr.pkt.t-1RTT').count()) >= 1, '1-RTT packets in the timeline');
    await assert.doesNotReject(page.getByText('TLS_AES_128_GCM_SHA256').first().waitFor());
    await page.locator('.badge.ok', { hasText: 'verified' }).first().waitFor();
  });

  it('an HTTP/3 GET of /page.html shows its status and body', async () => {
    const row = await request('/page.html');
    await row.locator('[data-testid=h3-body]', { hasText: 'Hello from quicscope' }).waitFor();
    assert.equal(await row.getAttribute('data-status'), '200');
    await page.screenshot({ path: join(shots, 'interact.png') });
  });

  it('the charts have data points and the stream table lists the request stream', async () => {
    await request('/1048576');
    await page.locator('[data-testid=h3-response][data-path="/1048576"][data-state=complete]').waitFor();
    await subTab('Charts');
    for (const chart of ['chart-cwnd', 'chart-rtt', 'chart-packets', 'chart-throughput']) {
      const fig = page.locator(`[data-testid=${chart}]`);
      await fig.locator('.recharts-line-curve').first().waitFor();
      assert.ok(Number(await fig.getAttribute('data-points')) > 1, `${chart} has points`);
      const d = await fig.locator('.recharts-line-curve').first().getAttribute('d');
      assert.ok(d !== null && d.length > 10, `${chart} draws a line`);
    }
    await page.screenshot({ path: join(shots, 'charts.png') });
    await subTab(/^Streams/);
    const table = page.locator('[data-testid=streams-table]');
    await table.locator('tbody tr', { hasText: 'request' }).first().waitFor();
    assert.ok((await table.locator('tbody tr', { hasText: 'control' }).count()) >= 2, 'both control streams');
    await page.screenshot({ path: join(shots, 'streams.png') });
  });

  it('the packet log is virtualised, filters by type, and shows a packet’s frames', async () => {
    await subTab(/^Packets/);
    const list = page.getByRole('listbox', { name: 'Packets' });
    await list.locator('.vrow').first().waitFor();
    const total = Number(
      (await page.locator('[data-testid=packet-count]').innerText()).replace(/,/g, '').split(' ')[2],
    );
    assert.ok(total > 500, `a 1 MiB response is hundreds of packets (${total})`);
    assert.ok((await list.locator('.vrow').count()) < 120, 'only the visible rows are in the DOM');
    await page.getByLabel('Type', { exact: true }).selectOption('handshake');
    await list.locator('.vrow').first().click();
    await page.locator('[data-testid=packet-detail]', { hasText: 'Handshake packet' }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.locator('[data-testid=packet-detail]').getByText('CRYPTO', { exact: false }).first().waitFor();
    await page.getByLabel('Type', { exact: true }).selectOption('');
    await page.getByLabel('Frame', { exact: true }).selectOption('handshake_done');
    // One, or more when a loaded machine made the server's loss detection resend it (RFC 9000 §13.3).
    assert.ok((await list.locator('.vrow').count()) >= 1, 'the HANDSHAKE_DONE packet');
    await list.locator('.vrow').first().click();
    await page.screenshot({ path: join(shots, 'packets.png') });
    await page.getByLabel('Frame', { exact: true }).selectOption('');
    await subTab('Handshake');
    await page.screenshot({ path: join(shots, 'handshake.png'), fullPage: false });
  });

  it('exports qlog (JSON-SEQ with the expected events) and pcapng', async () => {
    const qlogPath = await download('qlog');
    const text = readFileSync(qlogPath, 'utf8');
    const records = text
      .split('\u001e')
      .filter((r) => r.trim() !== '')
      .map((r) => JSON.parse(r) as { name?: string; file_schema?: string });
    assert.ok(records[0].file_schema !== undefined, 'the first record is the qlog header');
    const names = new Set(records.map((r) => r.name));
    for (const n of [
      'quic:packet_sent',
      'quic:packet_received',
      'quicscope:tls_message',
      'quic:parameters_set',
    ]) {
      assert.ok(names.has(n), `${n} in the qlog`);
    }
    const pcapPath = await download('pcapng');
    assert.equal(readFileSync(pcapPath).readUInt32LE(0), 0x0a0d0d0a, 'a pcapng Section Header Block');
    if (noTshark === false) {
      const out = spawnSync(
        'tshark',
        ['-r', pcapPath, '-T', 'fields', '-e', 'quic.frame_type', '-e', 'http3.frame_type'],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      assert.equal(out.status, 0, out.stderr);
      const rows = out.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      const quic = new Set(rows.flatMap((c) => (c[0] ?? '').split(',').filter(Boolean).map(Number)));
      const h3 = new Set(rows.flatMap((c) => (c[1] ?? '').split(',').filter(Boolean).map(Number)));
      assert.ok(quic.has(0x1e), 'tshark decrypts HANDSHAKE_DONE (1-RTT)');
      assert.ok(h3.has(0x01) && h3.has(0x00), 'tshark shows HTTP/3 HEADERS and DATA frames');
    }
  });

  it('a raw stream and a DATAGRAM on the quicscope-echo ALPN come back', async () => {
    assert.notEqual(localTarget, '');
    await connect(localTarget, 'quicscope-echo');
    await established();
    await subTab('Interact');
    await page.getByRole('button', { name: 'Open bidirectional stream' }).click();
    await page.getByText(/Opened bidi stream \d+/).waitFor();
    // Two writes: the echo's preview reaches the window as appended bytes, the second at an offset.
    await page.getByLabel('FIN (end the stream)').uncheck();
    await page.locator('textarea[name=stream-data]').fill('ping over a raw QUIC stream');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page
      .locator('[data-testid^=stream-received-]', { hasText: 'ping over a raw QUIC stream' })
      .waitFor();
    await page.getByLabel('FIN (end the stream)').check();
    await page.locator('textarea[name=stream-data]').fill(', and back — é €');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page
      .locator('[data-testid^=stream-received-]', { hasText: 'ping over a raw QUIC stream, and back — é €' })
      .waitFor();
    // RFC 9221: a DATAGRAM frame, echoed by the same server.
    await page.locator('textarea[name=datagram-data]').fill('a datagram');
    await page.getByRole('button', { name: 'Send datagram' }).click();
    await page.locator('[data-testid=datagram-received]', { hasText: 'a datagram' }).waitFor();
  });

  it('a host that does not resolve shows the DNS error', async () => {
    await connect('no-such-host.invalid:443');
    const banner = page.locator('.session-error[data-error-kind=dns]');
    await banner.waitFor();
    assert.match(await banner.innerText(), /Host name not found \(DNS\)/);
    await page.screenshot({ path: join(shots, 'error-dns.png') });
  });

  it(
    'ngtcp2: GET /page.html over HTTP/3 with its certificate given as the trust anchor',
    { skip: ngtcp2Available() ? false : 'ngtcp2-server is not installed' },
    async () => {
      let ngtcp2: Ngtcp2Server | null = null;
      try {
        ngtcp2 = await startNgtcp2();
        await newConnection();
        await page
          .getByRole('textbox', { name: 'Target' })
          .fill(`https://127.0.0.1:${ngtcp2.port}/page.html`);
        await page.getByLabel('SNI', { exact: true }).fill('localhost');
        await page.getByLabel('Extra trust anchors (PEM)').setInputFiles(ngtcp2.certFile);
        await page.getByRole('button', { name: 'Connect', exact: true }).click();
        await session().waitFor();
        await established();
        await page.locator('.badge.ok', { hasText: 'verified' }).first().waitFor();
        const row = await request('/page.html');
        await row.locator('[data-testid=h3-body]', { hasText: 'hello from ngtcp2' }).waitFor();
        assert.equal(await row.getAttribute('data-status'), '200');
      } finally {
        await ngtcp2?.stop();
      }
    },
  );

  it('records long tasks while the window follows a 100 MiB download (reported, not asserted)', async (t) => {
    await connect(localTarget);
    await established();
    await page.evaluate(`(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push(e.duration);
      }).observe({ type: 'longtask' });
    })()`);
    const started = Date.now();
    await request(`/${LONG_TASK_FILE}`);
    // Watch it as a user would: on the live charts.
    await subTab('Charts');
    const done = page.locator('section.session[data-requests-complete="1"]');
    let finished = true;
    await done.waitFor({ timeout: LONG_TASK_BUDGET_MS }).catch(() => {
      finished = false;
    });
    const elapsed = Date.now() - started;
    const tasks = (await page.evaluate('window.__longTasks')) as number[];
    const total = tasks.reduce((a, b) => a + b, 0);
    const max = tasks.reduce((a, b) => Math.max(a, b), 0);
    const line =
      `100 MiB download ${finished ? 'finished' : 'NOT finished'} in ${(elapsed / 1000).toFixed(1)} s; ` +
      `long tasks: ${tasks.length}, total ${total.toFixed(0)} ms (${((100 * total) / elapsed).toFixed(1)} % of the time), ` +
      `longest ${max.toFixed(0)} ms`;
    t.diagnostic(line);
    // The README's chart picture: a whole 100 MiB transfer.
    await page.screenshot({ path: join(shots, 'charts.png') });
  });

  it('logged no console error, page error or CSP violation', () => {
    assert.deepEqual(problems.errors, []);
  });
});
