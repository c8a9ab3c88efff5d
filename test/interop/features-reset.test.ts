// Stateless reset (RFC 9000 §10.3) over real UDP: `quicscope serve --secret-file F` as a child, a
// library client (H3ClientConnection) that GETs once, the server killed (SIGKILL, so it closes
// nothing) and started again on the same port with the same secret. The next request on the old
// connection reaches a server that does not know its connection ID; the server answers with a
// stateless reset whose token it derives from the secret, and the client ends the connection at
// once instead of waiting for its idle timeout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Config } from '../../core/connection/config.ts';
import { H3ClientConnection } from '../../main/h3/client.ts';
import type { CloseInfo } from '../../main/endpoint/errors.ts';
import { makeWorkspace, startQuicscopeServer, startQuicscopeServerAt, stopAll } from './peers.ts';
import type { Workspace } from './peers.ts';

describe('interop features: stateless reset after `quicscope serve` restarts', { timeout: 60_000 }, () => {
  let ws: Workspace;
  let client: H3ClientConnection | null = null;

  before(() => {
    ws = makeWorkspace('qs-feat-reset', 0);
  });

  after(async () => {
    await client?.close();
    await stopAll();
    ws?.cleanup();
  });

  it('RFC 9000 §10.3.1: the client recognizes the reset token and closes at once', async () => {
    const secret = join(ws.dir, 'secret');
    const args = ['--dir', ws.www, '--cert', ws.certFile, '--key', ws.keyFile, '--secret-file', secret];
    const first = await startQuicscopeServer(args);
    const config = new Config();
    config.setCaCertificates(readFileSync(ws.certFile, 'utf8'));
    client = await H3ClientConnection.open({ host: '127.0.0.1', port: first.port, config });
    const closed = client.handle.closed;
    const before = await client.request('/index.html');
    assert.equal(before.status, 200);
    assert.equal(before.error, null);

    // Killed: no CONNECTION_CLOSE; the restarted one knows the secret but not the connection.
    first.child.proc.kill('SIGKILL');
    await first.child.exited;
    await startQuicscopeServerAt(`127.0.0.1:${first.port}`, args);

    const after = await client.request('/index.html');
    assert.equal(after.status, null);
    assert.match(after.error?.message ?? '', /stateless reset/);
    const info: CloseInfo = await closed;
    assert.deepEqual(info.peer, { isApp: false, code: 0, reason: 'stateless reset', statelessReset: true });
    assert.equal(info.timedOut, false);
    assert.equal(info.error, null);
    assert.equal(client.handle.isOpen, false);
  });
});
