// The window's components against the contract, in real Chromium (Playwright), with a scripted
// stand-in for main/ (test/ui/helpers/fake-main.ts) that serves the build under a strict CSP:
// states a real server rarely produces (Retry, HelloRetryRequest, a rejected chain, a peer's
// CONNECTION_CLOSE) are checked deterministically, with no console error or CSP violation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import {
  chromiumAvailable,
  ensureRendererBuilt,
  launchChromium,
  openPage,
  type BrowserHandle,
  type PageProblems,
} from './helpers/browser.ts';
import { FAKE_PACKETS, startFakeMain, type FakeMain } from './helpers/fake-main.ts';

const skip = chromiumAvailable() ? false : 'Chromium is not installed (apt-get install chromium)';

describe('the window against the contract (scripted main, Chromium)', { skip }, () => {
  let fake: FakeMain;
  let browser: BrowserHandle;
  let page: Page;
  let problems: PageProblems;

  before(async () => {
    ensureRendererBuilt();
    fake = await startFakeMain();
    browser = await launchChromium({ width: 1400, height: 900 });
    ({ page, problems } = await openPage(browser.context));
    page.setDefaultTimeout(10_000);
    await page.goto(fake.url);
  });

  after(async () => {
    await browser?.close();
    await fake?.close();
  });

  const connect = async (target: string) => {
    await page.getByRole('tab', { name: '+ New connection' }).click();
    await page.getByRole('textbox', { name: 'Target' }).fill(target);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.locator('section.session').waitFor();
  };

  it('asks main for app info, presets, recent targets and sessions at start', async () => {
    await page.getByRole('textbox', { name: 'Target' }).waitFor();
    await page.getByText('fake.test:4433').first().waitFor();
    for (const m of ['appInfo', 'listPresets', 'recentTargets', 'listSessions'])
      assert.ok(fake.calls.includes(m), m);
    // A preset fills the form; it does not connect by itself.
    await page.locator('.preset', { hasText: 'quic.tech' }).click();
    assert.equal(await page.getByRole('textbox', { name: 'Target' }).inputValue(), 'quic.tech:8443');
    assert.ok(!fake.calls.includes('openSession'));
  });

  it('RFC 9000 §17.2.5 / RFC 8446 §4.1.4: marks Retry, HelloRetryRequest and 0-RTT in the handshake view', async () => {
    await connect('fake.test:4433');
    await page.locator('[data-testid=handshake-status]', { hasText: 'handshake complete' }).waitFor();
    const markers = page.getByLabel('Handshake markers');
    for (const m of ['Retry', 'HelloRetryRequest', '0-RTT sent'])
      await markers.getByText(m, { exact: true }).waitFor();
    const names = await page.locator('[data-testid=tls-messages] li .name').allInnerTexts();
    assert.deepEqual(names.slice(0, 4), ['ClientHello', 'HelloRetryRequest', 'ClientHello', 'ServerHello']);
    assert.equal(
      await page.locator('[data-testid=tls-messages] li.mark').count(),
      1,
      'the HRR row is marked',
    );
    const timeline = page.locator('[data-testid=handshake-timeline]');
    await timeline.locator('tr.pkt.t-retry.mark').waitFor();
    assert.match(await timeline.locator('tr.pkt.t-0RTT').innerText(), /0-RTT keys/);
    assert.equal(await timeline.locator('tr.pkt.lost').count(), 1, 'the lost 0-RTT packet is struck through');
    await page.getByText('TLS_AES_128_GCM_SHA256').waitFor();
    // Transport parameters of both sides, and the chain with its verdict.
    const params = page.locator('table.params');
    assert.match(
      await params.locator('tr', { hasText: 'initial_max_data' }).innerText(),
      /1048576\s+2097152/,
    );
    await page.locator('.cert-subject', { hasText: 'CN=fake.test' }).waitFor();
    await page.getByText('DNS:fake.test, IP:127.0.0.1').waitFor();
    await page.locator('.badge.ok', { hasText: 'verified' }).first().waitFor();
  });

  it('virtualises the packet log, filters it, and moves the selection with the keyboard', async () => {
    await page.getByRole('tab', { name: /^Packets/ }).click();
    const list = page.getByRole('listbox', { name: 'Packets' });
    await list.locator('.vrow').first().waitFor();
    const count = page.locator('[data-testid=packet-count]');
    const total = (FAKE_PACKETS + 8).toLocaleString('en-US'); // 4 Initial/Retry, 2 Handshake, 1 0-RTT, 1 + FAKE_PACKETS 1-RTT
    assert.match(await count.innerText(), new RegExp(`^${total} of ${total} packets · 1 lost`));
    const rendered = await list.locator('.vrow').count();
    assert.ok(rendered > 10 && rendered < 100, `only the visible rows are rendered (${rendered})`);
    await page.getByLabel('Type', { exact: true }).selectOption('initial');
    assert.match(await count.innerText(), /^3 of /);
    await page.getByLabel('Type', { exact: true }).selectOption('');
    await page.getByLabel('Direction', { exact: true }).selectOption('sent');
    await page.getByLabel('Frame', { exact: true }).selectOption('stream');
    assert.match(await count.innerText(), /^1 of /, 'the one 0-RTT STREAM packet we sent');
    await page.getByLabel('Direction', { exact: true }).selectOption('');
    await page.getByLabel('Frame', { exact: true }).selectOption('');
    // The list follows the newest packet: Home selects (and scrolls to) the first one.
    await list.focus();
    await list.press('Home');
    await page.locator('[data-testid=packet-detail]', { hasText: 'Sent Initial packet #0' }).waitFor();
    await list.press('ArrowDown');
    await page.locator('[data-testid=packet-detail]', { hasText: 'Received Retry packet' }).waitFor();
    await list.press('End');
    await page.locator('[data-testid=packet-detail]', { hasText: `#${FAKE_PACKETS}` }).waitFor();
    assert.match(await page.locator('[data-testid=packet-detail]').innerText(), /STREAM 0 off=\d+ len=1200/);
  });

  it('draws the four charts from the series, with the RTT variance band', async () => {
    await page.getByRole('tab', { name: 'Charts' }).click();
    for (const id of ['cwnd', 'rtt', 'packets', 'throughput']) {
      const fig = page.locator(`[data-testid=chart-${id}]`);
      await fig.locator('.recharts-line-curve').first().waitFor();
      assert.ok(Number(await fig.getAttribute('data-points')) >= 100, id);
    }
    await page.locator('[data-testid=chart-rtt] .recharts-area-area').waitFor();
    assert.match(await page.locator('[data-testid=chart-rtt] figcaption').innerText(), /smoothed 0\.90 ms/);
  });

  it('lists the streams with their RFC 9000 §3 states', async () => {
    await page.getByRole('tab', { name: /^Streams/ }).click();
    const rows = page.locator('[data-testid=streams-table] tbody tr');
    assert.equal(await rows.count(), 2);
    assert.match(await rows.nth(0).innerText(), /^0 \(0x0\)\s+us\s+bidi\s+request/);
    assert.match(await rows.nth(0).innerText(), /FIN sent, FIN received/);
    assert.match(await rows.nth(1).innerText(), /3 \(0x3\)\s+peer\s+uni\s+control/);
  });

  it('sends an HTTP/3 request and shows the response; unsupported actions say so', async () => {
    await page.getByRole('tab', { name: 'Interact' }).click();
    await page.getByLabel('Path').fill('/page.html');
    await page.getByLabel('Headers (one "name: value" per line)').fill('accept: text/html');
    await page.getByRole('button', { name: 'Send request' }).click();
    const row = page.locator('[data-testid=h3-response][data-path="/page.html"]');
    await row.locator('[data-testid=h3-body]', { hasText: 'fake body of /page.html' }).waitFor();
    assert.equal(await row.getAttribute('data-status'), '200');
    await page.getByLabel('Headers (one "name: value" per line)').fill('not a header');
    assert.ok(await page.getByRole('button', { name: 'Send request' }).isDisabled());
    await page.getByLabel('Headers (one "name: value" per line)').fill('');
    await page.getByRole('button', { name: 'Key update' }).click();
    await page.getByText('Key update initiated (RFC 9001 §6)').waitFor();
    assert.ok(
      await page.getByRole('button', { name: 'Migrate to a new port' }).isDisabled(),
      'no migration feature',
    );
  });

  it('downloads an export in web mode', async () => {
    const [dl] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('group', { name: 'Export' }).getByRole('button', { name: 'qlog' }).click(),
    ]);
    assert.equal(dl.suggestedFilename(), 'fake.sqlog');
    assert.equal(readFileSync(await dl.path(), 'utf8'), '\u001e{"qlog_version":"0.4"}\n');
  });

  it('shows a DNS failure, a rejected certificate with its chain, and a peer CONNECTION_CLOSE', async () => {
    await connect('nxdomain.invalid:443');
    await page
      .locator('.session-error[data-error-kind=dns]', { hasText: 'Host name not found (DNS)' })
      .waitFor();
    await page.getByText('nxdomain.invalid: ENOTFOUND (no such host)').waitFor();
    await page.locator('[data-testid=handshake-status]', { hasText: 'not completed' }).waitFor();

    await connect('badcert.test:443');
    const cert = page.locator('.session-error[data-error-kind=certificate]');
    await cert.getByText('Certificate rejected', { exact: true }).waitFor();
    assert.match(await cert.innerText(), /CRYPTO_ERROR\(unknown_ca\) 0x130 \(transport\)/);
    assert.match(await cert.innerText(), /Verdict: unknown_ca — no trust anchor for CN=Fake Test CA/);
    assert.equal(await cert.locator('.cert').count(), 2, 'the chain as received');

    await connect('close.test:443');
    const close = page.locator('.session-error[data-error-kind=peer_close]');
    await close.getByText('The peer closed the connection', { exact: true }).waitFor();
    assert.match(await close.innerText(), /H3_GENERAL_PROTOCOL_ERROR 0x101 \(application\)/);
    assert.match(await close.innerText(), /bad frame on control stream/);
  });

  it('keeps sessions side by side in tabs, reachable with the arrow keys, and closes one', async () => {
    const tabs = page.getByRole('tablist', { name: 'Sessions' }).getByRole('tab');
    assert.equal(await tabs.count(), 5, 'four sessions and the connect tab');
    await tabs.nth(0).click();
    await page.locator('section.session', { hasText: 'fake.test:4433' }).waitFor();
    await page.keyboard.press('ArrowRight');
    await page.locator('section.session', { hasText: 'nxdomain.invalid:443' }).waitFor();
    assert.equal(await tabs.nth(1).getAttribute('aria-selected'), 'true');
    await page.getByRole('button', { name: "Close this session's tab" }).nth(1).click();
    await tabs.nth(4).waitFor({ state: 'detached' }); // the window re-renders after the click
    assert.equal(await tabs.count(), 4);
    assert.ok(fake.calls.includes('removeSession'));
  });

  it('after a reload the sessions come back from their snapshots: charts, streams, handshake, errors', async () => {
    await page.reload();
    const tabs = page.getByRole('tablist', { name: 'Sessions' }).getByRole('tab');
    await page.locator('.link.open').waitFor();
    await tabs.nth(3).waitFor();
    assert.equal(await tabs.count(), 4, 'three sessions (one was closed) and the connect tab');
    assert.ok(fake.calls.filter((c) => c === 'sessionSnapshot').length >= 3, 'one snapshot per session');
    await tabs.nth(0).click();
    await page.locator('section.session', { hasText: 'fake.test:4433' }).waitFor();
    await page.getByRole('tab', { name: 'Charts' }).click();
    const fig = page.locator('[data-testid=chart-cwnd]');
    await fig.locator('.recharts-line-curve').first().waitFor();
    assert.ok(Number(await fig.getAttribute('data-points')) >= 100, 'the whole series');
    await page.getByRole('tab', { name: /^Streams/ }).click();
    assert.equal(await page.locator('[data-testid=streams-table] tbody tr').count(), 2);
    await page.getByRole('tab', { name: 'Handshake' }).click();
    await page.locator('.cert-subject', { hasText: 'CN=fake.test' }).waitFor();
    await tabs.nth(1).click();
    await page.locator('.session-error[data-error-kind=certificate]').waitFor();
  });

  it('logged no console error, page error or CSP violation', () => {
    assert.deepEqual(problems.errors, []);
  });
});
