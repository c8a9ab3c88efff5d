#!/usr/bin/env node
// Runs every test/**/*.test.ts on Node's built-in runner through tsx.
// (Node 20's --test does not expand globs itself.) Extra arguments are passed to `node --test`,
// and path arguments (test files, or directories of them) narrow the run.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const isPath = (a) => a.endsWith('.ts') || (!a.startsWith('-') && existsSync(a) && statSync(a).isDirectory());
const chosen = args.filter(isPath).flatMap((a) => (a.endsWith('.ts') ? [a] : collect(a, [])));
const flags = args.filter((a) => !isPath(a));
const files = chosen.length > 0 ? chosen : collect('test', []);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...flags, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
