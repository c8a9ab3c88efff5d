#!/usr/bin/env node
// `npm start`: the desktop app in Electron when an Electron binary is installed (for example with
// `npm install --no-save electron`), otherwise web mode (`npm run web`): the same window in a
// browser, served on 127.0.0.1 with a token in its URL. Builds the window (renderer/dist) first
// when it is missing. `--web` forces web mode; other arguments go to web mode (e.g. --port 8080).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from '../main/electron/locate.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const forceWeb = args.includes('--web');
const rest = args.filter((a) => a !== '--web');

/** Builds renderer/dist with vite when it is not there. */
function ensureRenderer() {
  if (existsSync(join(root, 'renderer', 'dist', 'index.html'))) return;
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {};
  console.log('quicscope: building the window (renderer/dist)…');
  const r = scripts['build:renderer']
    ? spawnSync('npm', ['run', '--silent', 'build:renderer'], { cwd: root, stdio: 'inherit' })
    : spawnSync(
        process.execPath,
        [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.mjs'],
        {
          cwd: root,
          stdio: 'inherit',
        },
      );
  if (r.status !== 0) console.log('quicscope: the window did not build; the server will say so in the page.');
}

/** Runs a child with our stdio, forwards Ctrl-C and exits with its status. */
function run(command, argv, env = process.env) {
  const child = spawn(command, argv, { cwd: root, stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

ensureRenderer();
const electron = forceWeb ? null : electronBinary(root);
if (electron !== null) {
  const { buildElectron } = await import('./build-electron.mjs');
  const main = await buildElectron();
  run(electron, [main], { ...process.env, QUICSCOPE_ROOT: root });
} else {
  if (!forceWeb)
    console.log(
      'quicscope: Electron is not installed (npm install --no-save electron for the desktop app); starting web mode.',
    );
  run(process.execPath, ['--import', 'tsx', join(root, 'main/web/main.ts'), ...rest]);
}
