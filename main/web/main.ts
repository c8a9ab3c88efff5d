/**
 * `npm run web`: starts web mode and prints the URL to open (token included). Options:
 * --port N (default: a free port), --no-open is implied (nothing is launched). Ctrl-C stops it,
 * closing the sessions and the local server.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startWebServer } from './server.ts';

const { values } = parseArgs({
  options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  allowPositionals: false,
});

if (values.help) {
  process.stdout.write(
    'usage: npm run web -- [--port N]\n  Serves the quicscope window on 127.0.0.1 and prints its URL.\n',
  );
  process.exit(0);
}

const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`quicscope: --port must be 0..65535, not ${values.port}\n`);
  process.exit(2);
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version?: string;
};
const server = await startWebServer({ port, appVersion: pkg.version ?? '0.0.0' });
process.stdout.write(`quicscope web mode: ${server.url}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) process.exit(130);
  stopping = true;
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
