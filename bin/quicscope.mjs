#!/usr/bin/env node
// The `quicscope` command (package.json "bin"): loads the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../main/cli/index.ts');
const { processIo } = await import('../main/cli/io.ts');
const status = await main(process.argv.slice(2), processIo());
// Exit once stdout is written: no open handle may keep the command alive.
process.exitCode = status;
process.nextTick(() => process.exit(status));
