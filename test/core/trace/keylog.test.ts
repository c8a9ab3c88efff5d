import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyLog } from '../../../core/trace/keylog.ts';

const random = Uint8Array.from({ length: 32 }, (_, i) => i);
const RANDOM_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

describe('SSLKEYLOGFILE (NSS key log format)', () => {
  it('writes `LABEL <client_random hex> <secret hex>` lines, LF-terminated', () => {
    const log = new KeyLog();
    assert.equal(log.toString(), '');
    assert.equal(log.add('CLIENT_HANDSHAKE_TRAFFIC_SECRET', random, Uint8Array.of(0xab, 0x01)), true);
    assert.equal(log.add('SERVER_TRAFFIC_SECRET_0', random, new Uint8Array(48).fill(0xff)), true);
    assert.equal(
      log.toString(),
      `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${RANDOM_HEX} ab01\n` +
        `SERVER_TRAFFIC_SECRET_0 ${RANDOM_HEX} ${'ff'.repeat(48)}\n`,
    );
    assert.equal(log.size, 2);
  });

  it('drops identical lines, whichever way they arrive (case of hex ignored)', () => {
    const log = new KeyLog();
    log.add('EXPORTER_SECRET', random, Uint8Array.of(0xcd));
    assert.equal(log.add('EXPORTER_SECRET', random, Uint8Array.of(0xcd)), false);
    assert.equal(log.addLine(`EXPORTER_SECRET ${RANDOM_HEX.toUpperCase()} CD\r`), false);
    assert.equal(log.addLine(`EXPORTER_SECRET ${RANDOM_HEX} ce`), true);
    assert.equal(log.size, 2);
    assert.deepEqual(log.lines(), [`EXPORTER_SECRET ${RANDOM_HEX} cd`, `EXPORTER_SECRET ${RANDOM_HEX} ce`]);
  });

  it('reads a key log text: comments and blank lines skipped', () => {
    const log = new KeyLog();
    const text = `# written by a browser\n\nCLIENT_TRAFFIC_SECRET_0 ${RANDOM_HEX} 0011\r\nSERVER_TRAFFIC_SECRET_0 ${RANDOM_HEX} 2233\n`;
    assert.equal(log.addText(text), 2);
    assert.equal(log.addText(text), 0);
    assert.equal(
      log.toString(),
      `CLIENT_TRAFFIC_SECRET_0 ${RANDOM_HEX} 0011\nSERVER_TRAFFIC_SECRET_0 ${RANDOM_HEX} 2233\n`,
    );
  });

  it('takeNew returns each line once, in batches', () => {
    const log = new KeyLog();
    assert.equal(log.takeNew(), '');
    log.add('CLIENT_HANDSHAKE_TRAFFIC_SECRET', random, Uint8Array.of(1));
    log.add('SERVER_HANDSHAKE_TRAFFIC_SECRET', random, Uint8Array.of(2));
    assert.equal(log.pending, 2);
    assert.equal(log.takeNew().split('\n').length, 3);
    assert.equal(log.pending, 0);
    log.add('SERVER_HANDSHAKE_TRAFFIC_SECRET', random, Uint8Array.of(2)); // duplicate: not new
    assert.equal(log.takeNew(), '');
    log.add('CLIENT_TRAFFIC_SECRET_0', random, Uint8Array.of(3));
    assert.equal(log.takeNew(), `CLIENT_TRAFFIC_SECRET_0 ${RANDOM_HEX} 03\n`);
    assert.equal(log.size, 3, 'toString still has everything');
  });

  it('rejects malformed input (a caller mistake: RangeError)', () => {
    const log = new KeyLog();
    assert.throws(() => log.add('lower_case', random, Uint8Array.of(1)), RangeError);
    assert.throws(() => log.add('CLIENT_RANDOM', new Uint8Array(31), Uint8Array.of(1)), RangeError);
    assert.throws(() => log.add('CLIENT_RANDOM', random, new Uint8Array(0)), RangeError);
    assert.throws(() => log.addLine('CLIENT_RANDOM 00 11'), RangeError);
    assert.throws(() => log.addLine(`CLIENT_RANDOM ${RANDOM_HEX} 1`), RangeError);
    assert.throws(() => log.addLine(`CLIENT_RANDOM ${RANDOM_HEX} zz`), RangeError);
    assert.throws(() => log.addLine(`CLIENT_RANDOM ${RANDOM_HEX}`), RangeError);
    assert.equal(log.size, 0);
  });
});
