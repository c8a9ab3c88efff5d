// The endpoints' per-datagram trace hook feeding PcapngWriter (core/trace/pcapng.ts) with the
// client's TLS secrets: tshark must decrypt our own 1-RTT packets. Received datagrams reach the
// hook after the connection processed them, so the Decryption Secrets Block that their keys need
// comes first. Skipped without tshark. Loopback only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyLog } from '../../../core/trace/keylog.ts';
import { PcapngWriter } from '../../../core/trace/pcapng.ts';
import { QuicClientEndpoint } from '../../../main/endpoint/client.ts';
import { echoRoundTrip, echoServer } from './harness.ts';

const skip = spawnSync('sh', ['-c', 'command -v tshark']).status !== 0 ? 'tshark is not installed' : false;

describe('pcapng capture from the endpoint trace hook', { skip }, () => {
  it('tshark decrypts the HANDSHAKE_DONE and STREAM frames of our own session', async () => {
    const { server, clientConfig } = await echoServer('127.0.0.1');
    const keylog = new KeyLog();
    clientConfig.setKeylog((line) => keylog.addLine(line));
    const chunks: Uint8Array[] = [];
    const pcap = new PcapngWriter((b) => chunks.push(b), { keylog });
    const client = await QuicClientEndpoint.open({
      host: '127.0.0.1',
      port: server.address.port,
      config: clientConfig,
    });
    let datagrams = 0;
    client.on('datagram', (e) => {
      datagrams++;
      pcap.writeDatagram(e.time, e.data, {
        from: e.from,
        to: e.to,
        direction: e.direction === 'sent' ? 'outbound' : 'inbound',
      });
    });
    try {
      const h = client.connect();
      await h.established;
      await echoRoundTrip(h, Buffer.from('captured'));
    } finally {
      await client.close();
      await server.close();
    }
    const dir = mkdtempSync(join(tmpdir(), 'quicscope-endpoint-pcap-'));
    try {
      const path = join(dir, 'session.pcapng');
      writeFileSync(path, Buffer.concat(chunks));
      const r = spawnSync(
        'tshark',
        ['-r', path, '-T', 'fields', '-e', 'quic.header_form', '-e', 'quic.frame_type'],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout.trim().split('\n');
      assert.equal(rows.length, datagrams);
      const shortTypes = rows
        .map((line) => line.split('\t'))
        .filter(([forms]) => forms.split(',').every((f) => f === '0'))
        .flatMap(([, types]) => (types ? types.split(',').map(Number) : []));
      assert.ok(shortTypes.includes(0x1e), 'HANDSHAKE_DONE decrypted');
      assert.ok(
        shortTypes.some((t) => t >= 0x08 && t <= 0x0f),
        'STREAM frames decrypted',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
