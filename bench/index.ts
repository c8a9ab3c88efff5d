/**
 * `npm run bench [-- <filter>...] [--rounds=N]`: runs the benchmark groups and prints one line
 * per figure. A filter is a group name (`crypto`) or a prefix of a figure's name
 * (`crypto.node`); with none, every group runs. Add a group by adding it to GROUPS.
 */

import { cpus } from 'node:os';
import process, { argv, stderr, stdout, version } from 'node:process';
import { createBench } from './harness.ts';
import type { BenchGroup } from './harness.ts';

/** The registry: group name → its module, loaded only when it runs. */
const GROUPS: Record<string, () => Promise<BenchGroup>> = {
  crypto: () => import('./crypto.ts'),
  handshake: () => import('./handshake.ts'),
  transfer: () => import('./transfer.ts'),
  sim: () => import('./sim.ts'),
  queue: () => import('./queue.ts'),
  loopback: () => import('./loopback.ts'),
};

async function main(): Promise<void> {
  const args = argv.slice(2);
  let rounds = 5;
  const filters: string[] = [];
  for (const a of args) {
    const m = /^--rounds=(\d+)$/.exec(a);
    if (m) rounds = Math.max(1, Number(m[1]));
    else if (a === '--list') {
      stdout.write(Object.keys(GROUPS).join('\n') + '\n');
      return;
    } else filters.push(a);
  }
  const groupOf = (f: string): string => f.split('.')[0];
  for (const f of filters) {
    if (!(groupOf(f) in GROUPS)) {
      throw new Error(`unknown benchmark group '${groupOf(f)}' (groups: ${Object.keys(GROUPS).join(', ')})`);
    }
  }
  const selected = (full: string): boolean =>
    filters.length === 0 || filters.some((f) => full === f || full.startsWith(f + '.') || full.startsWith(f));
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  stdout.write(
    `# quicscope bench — node ${version}, ${cpus().length} × ${cpu}, median of ${rounds} rounds\n`,
  );
  for (const [name, load] of Object.entries(GROUPS)) {
    if (filters.length > 0 && !filters.some((f) => groupOf(f) === name)) continue;
    const group = await load();
    await group.run(createBench(name, (line) => stdout.write(line + '\n'), rounds, selected));
  }
}

try {
  await main();
} catch (e) {
  stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
