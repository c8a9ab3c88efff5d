/**
 * Playwright (playwright-core) on Debian's Chromium for the UI tests: the launch flags this machine
 * needs, a fresh profile per launch, the renderer build, and a page that records console errors,
 * uncaught exceptions and CSP violations so each test can assert there were none.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium; .ci/run installs it). */
export const CHROMIUM = process.env.QUICSCOPE_CHROMIUM ?? '/usr/bin/chromium';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Whether the UI tests can run here (Chromium installed). */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/** Builds renderer/dist when it is missing or older than its sources (a no-op otherwise). */
export function ensureRendererBuilt(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-renderer.mjs'), '--if-stale'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`renderer build failed (exit ${r.status})`);
}

/** A launched Chromium with its throwaway profile. */
export interface BrowserHandle {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with the flags this machine needs and a new, empty profile directory
 * (Playwright passes it as --user-data-dir through launchPersistentContext).
 */
export async function launchChromium(viewport = { width: 1440, height: 900 }): Promise<BrowserHandle> {
  const profile = mkdtempSync(join(tmpdir(), 'quicscope-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport,
    acceptDownloads: true,
    colorScheme: 'dark',
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Problems a page reported: console errors, uncaught exceptions, CSP violations. */
export interface PageProblems {
  errors: string[];
}

/** Opens a page that records every console error, page error and CSP violation in `problems`. */
export async function openPage(context: BrowserContext): Promise<{ page: Page; problems: PageProblems }> {
  const page = await context.newPage();
  const problems: PageProblems = { errors: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.errors.push(`pageerror: ${err.message}`));
  // CSP violations also reach the console, but record them explicitly (with what was blocked).
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => {
      console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
        ' (' + e.sourceFile + ':' + e.lineNumber + ')');
    });`,
  });
  return { page, problems };
}

/** Where screenshots for the README go. */
export const SCREENSHOT_DIR = join(ROOT, 'assets', 'screenshots');
