import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ipBytes,
  ipText,
  isIpv6,
  sameAddress,
  sameIp,
  tupleEndpoint,
} from '../../../core/connection/address.ts';

describe('addresses as the connection compares them (RFC 9000 §9: a path is an address pair)', () => {
  it('one IPv6 address in different text forms is one address; IPv4-mapped IPv6 is the IPv4 address', () => {
    assert.ok(sameIp('::1', '0:0:0:0:0:0:0:1'));
    assert.ok(sameIp('2001:db8::1', '2001:0DB8:0:0::0001'));
    assert.ok(sameIp('::ffff:192.0.2.1', '192.0.2.1'));
    assert.ok(sameIp('[::1]', '::1'));
    assert.ok(!sameIp('::1', '::2'));
    assert.ok(!sameIp('192.0.2.1', '192.0.2.2'));
    assert.ok(!sameIp('not an address', 'also not'));
    assert.ok(sameAddress({ address: '::1', port: 443 }, { address: '0::1', port: 443 }));
    assert.ok(!sameAddress({ address: '::1', port: 443 }, { address: '::1', port: 444 }));
  });

  it('formats address bytes as RFC 5952 text (lower case, the longest zero run compressed)', () => {
    assert.equal(ipText(new Uint8Array([192, 0, 2, 33])), '192.0.2.33');
    assert.equal(ipText(ipBytes('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
    assert.equal(ipText(ipBytes('2001:DB8::1')), '2001:db8::1');
    assert.equal(ipText(ipBytes('::')), '::');
    assert.equal(ipText(ipBytes('::1')), '::1');
    assert.equal(ipText(ipBytes('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1'); // §4.2.2: no "::" for one group
    assert.equal(ipText(ipBytes('fe80::')), 'fe80::');
  });

  it('text ↔ bytes round-trips for every 4- and 16-byte address (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
        ),
        (b) => {
          assert.deepEqual(ipBytes(ipText(b)), b);
        },
      ),
      { numRuns: 500, seed: 9 },
    );
  });

  it('tells the family and builds qlog TupleEndpointInfo (quic-events-13 §8.5)', () => {
    assert.ok(isIpv6({ address: '2001:db8::1', port: 1 }));
    assert.ok(!isIpv6({ address: '::ffff:10.0.0.1', port: 1 }));
    assert.ok(!isIpv6({ address: '10.0.0.1', port: 1 }));
    assert.deepEqual(tupleEndpoint({ address: '10.0.0.1', port: 5 }, [new Uint8Array([1, 2])]), {
      ip_v4: '10.0.0.1',
      port_v4: 5,
      connection_ids: ['0102'],
    });
    assert.deepEqual(tupleEndpoint({ address: '::1', port: 5 }, [new Uint8Array(0)]), {
      ip_v6: '::1',
      port_v6: 5,
    });
  });
});
