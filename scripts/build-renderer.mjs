#!/usr/bin/env node
// Builds the window (renderer/ → renderer/dist) with Vite. With --if-stale it builds only when
// renderer/dist is missing or older than a source file (the UI tests call it that way), and a lock
// directory keeps two test files from building at once.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'renderer', 'dist', 'index.html');
const lock = join(root, 'renderer', '.build-lock');

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

function stale() {
  if (!existsSync(dist)) return true;
  const built = statSync(dist).mtimeMs;
  const sources = [
    join(root, 'renderer', 'src'),
    join(root, 'renderer', 'index.html'),
    join(root, 'renderer', 'vite.config.mjs'),
    join(root, 'main', 'ipc'), // the contract and the preview rule the window imports
    join(root, 'assets', 'icon.svg'),
  ];
  return sources.some((p) => existsSync(p) && newest(p) > built);
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const ifStale = process.argv.includes('--if-stale');
if (ifStale && !stale()) process.exit(0);

// Take the lock (another process may be building: wait for it, then re-check).
const deadline = Date.now() + 120_000;
for (;;) {
  try {
    mkdirSync(lock);
    break;
  } catch {
    if (Date.now() > deadline) {
      console.error(`build-renderer: ${lock} held for 2 minutes; remove it if no build is running`);
      process.exit(1);
    }
    sleep(200);
  }
}
try {
  if (!ifStale || stale()) build();
} finally {
  rmSync(lock, { recursive: true, force: true });
}

function build() {
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(
    process.execPath,
    [vite, 'build', '--config', join(root, 'renderer', 'vite.config.mjs')],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  process.exitCode = r.status ?? 1;
}
