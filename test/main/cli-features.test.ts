// The transport-feature flags of the CLI, in-process against an in-process server on 127.0.0.1:
// version arguments, the session file (resumption, 0-RTT, NEW_TOKEN across runs, RFC 9369 §5
// token versions), the server secret file, and key updates on request. The same flags against
// ngtcp2 are in test/interop/features-*.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../../core/wire/version.ts';
import { UsageError } from '../../main/cli/options.ts';
import { loadSecrets } from '../../main/cli/serve.ts';
import { SessionFile } from '../../main/cli/session-file.ts';
import { parseVersion, parseVersionList } from '../../main/cli/transport.ts';
import { testPki } from '../helpers/certs.ts';
import { runMain, startServer, tempDir } from './cli-helpers.ts';

describe('quicscope CLI: version arguments and secret files', () => {
  const tmp = tempDir('qs-cli-feat');
  after(() => tmp.cleanup());

  it('--quic-version takes 1, 2, v1, v2 or any non-zero 32-bit hex value', () => {
    assert.equal(parseVersion('1', 'quic-version', 'get'), QUIC_VERSION_1);
    assert.equal(parseVersion('v2', 'quic-version', 'get'), QUIC_VERSION_2);
    assert.equal(parseVersion('0x6b3343cf', 'quic-version', 'get'), QUIC_VERSION_2);
    assert.equal(parseVersion('0x1A2A3A4A', 'quic-version', 'get'), 0x1a2a3a4a);
    for (const bad of ['0', '0x0', '0x123456789', '3', 'draft-29', ''])
      assert.throws(() => parseVersion(bad, 'quic-version', 'get'), UsageError, bad);
    assert.deepEqual(parseVersionList('2,1', 'v', 'serve'), [QUIC_VERSION_2, QUIC_VERSION_1]);
  });

  it('--secret-file: made once (mode 0600), then the same keys on every load', () => {
    const path = `${tmp.dir}/secret.hex`;
    const a = loadSecrets(path);
    assert.equal(a.created, true);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const b = loadSecrets(path);
    assert.equal(b.created, false);
    assert.deepEqual(b.secrets, a.secrets);
    const keys = [a.secrets.ticketKey, a.secrets.tokenKey, a.secrets.statelessResetKey];
    assert.equal(new Set(keys.map((k) => Buffer.from(k).toString('hex'))).size, 3, 'one key per purpose');
    assert.throws(() => loadSecrets(tmp.file('bad.hex', 'not hex\n')), /64 hex digits/);
  });

  it('a session file that is not one is reported and replaced, not fatal', () => {
    const f = SessionFile.load(tmp.file('junk.json', '{"format":"other"}'));
    assert.match(f.problem ?? '', /not a session file/);
    assert.deepEqual(f.get('127.0.0.1:4433'), {
      ticket: null,
      ticketVersion: null,
      token: null,
      tokenVersion: null,
    });
    assert.equal(SessionFile.load(`${tmp.dir}/missing.json`).problem, null);
  });
});

describe('quicscope get --session-file / --early-data / --key-update-after against our server', () => {
  const pki = testPki('ec-p256');
  const tmp = tempDir('qs-cli-resume');
  const ca = tmp.file('ca.pem', pki.root.pem);
  let srv: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    srv = await startServer(pki.chainPem, pki.leaf.keyPem, {
      configure: (c) => c.enableEarlyData(),
    });
  });
  after(async () => {
    await srv.server.close();
    tmp.cleanup();
  });

  it('run 1 stores a ticket and a token; run 2 resumes and sends its requests in 0-RTT, accepted', async () => {
    const session = `${tmp.dir}/s1.json`;
    const args = ['get', '--ca', ca, '-v', '--session-file', session, '--early-data', srv.url('/2000')];
    const first = await runMain(args);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /resumed no {2}early data not_offered/);
    assert.equal(statSync(session).mode & 0o777, 0o600);
    const stored = SessionFile.load(session).get(`127.0.0.1:${srv.port}`);
    assert.ok(stored.ticket !== null && stored.token !== null);
    assert.equal(stored.ticketVersion, QUIC_VERSION_1);
    const second = await runMain(args);
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /resumed yes {2}early data accepted/);
    assert.match(second.out, /offered a session ticket/);
    assert.match(second.out, /offered a NEW_TOKEN token/);
    assert.notEqual(readFileSync(session, 'utf8'), '', 'the new ticket was saved');
  });

  it('a token from a v1 connection is not offered to a v2 one (RFC 9369 §5)', async () => {
    const session = `${tmp.dir}/s2.json`;
    const v1 = await runMain(['get', '--ca', ca, '--session-file', session, srv.url('/10')]);
    assert.equal(v1.code, 0, v1.err);
    const v2 = await runMain([
      'get',
      '--ca',
      ca,
      '-v',
      '--quic-version',
      '2',
      '--session-file',
      session,
      srv.url('/10'),
    ]);
    assert.equal(v2.code, 0, v2.err);
    assert.match(v2.out, /QUIC v2/);
    assert.doesNotMatch(v2.out, /offered a NEW_TOKEN token/);
  });

  it('--key-update-after: a key update each time that many more bytes arrived (RFC 9001 §6)', async () => {
    const r = await runMain(['get', '--ca', ca, '-v', '--key-update-after', '200000', srv.url('/1000000')]);
    assert.equal(r.code, 0, r.err);
    const updates = Number(/key updates (\d+)/.exec(r.out)?.[1]);
    const notes = r.out.match(/key update initiated after \d+ bytes/g) ?? [];
    assert.ok(notes.length >= 2 && notes.length <= 5, r.out);
    assert.ok(updates >= notes.length, r.out);
  });
});
