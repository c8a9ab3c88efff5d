import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { H3Error, H3ErrorCode } from '../../../core/h3/errors.ts';
import {
  checkRequest,
  checkResponse,
  checkTrailers,
  invalidFieldName,
  responseHasNoContent,
} from '../../../core/h3/message.ts';
import type { FieldLine } from '../../../core/h3/qpack/decoder.ts';
import { MessageState } from '../../../core/h3/stream-state.ts';

const GET: FieldLine[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'example.org'],
  [':path', '/index.html'],
];

const isH3 = (code: number, scope: 'connection' | 'stream') => (e: unknown) =>
  e instanceof H3Error && e.code === code && e.application && e.scope === scope;

function malformedRequest(headers: FieldLine[]): string {
  const r = checkRequest(headers);
  assert.equal(typeof r, 'string', `expected malformed: ${JSON.stringify(headers)}`);
  return r as string;
}

describe('RFC 9114 §4.3.1 request pseudo-header fields', () => {
  it('accepts a GET with the four pseudo-header fields and regular fields after them', () => {
    assert.deepEqual(checkRequest([...GET, ['user-agent', 'quicscope'], ['accept', '*/*']]), {
      method: 'GET',
      contentLength: -1,
    });
  });

  it('requires :method, :scheme and :path exactly once', () => {
    for (const name of [':method', ':scheme', ':path']) {
      assert.match(malformedRequest(GET.filter(([n]) => n !== name)), /missing/);
      assert.match(malformedRequest([...GET, GET.find(([n]) => n === name) as FieldLine]), /repeated/);
    }
  });

  it('requires a non-empty :path and an authority (:authority or host) for https', () => {
    assert.match(malformedRequest(GET.map(([n, v]) => [n, n === ':path' ? '' : v])), /empty :path/);
    assert.match(malformedRequest(GET.filter(([n]) => n !== ':authority')), /authority/);
    const withHost: FieldLine[] = [...GET.filter(([n]) => n !== ':authority'), ['host', 'example.org']];
    assert.equal(typeof checkRequest(withHost), 'object');
    assert.match(malformedRequest([...GET, ['host', 'other.example']]), /differ/);
    assert.match(
      malformedRequest(GET.map(([n, v]) => [n, n === ':authority' ? 'user@example.org' : v])),
      /userinfo/,
    );
  });

  it('allows OPTIONS * and rejects a relative :path for https', () => {
    const options = GET.map(([n, v]): FieldLine => [
      n,
      n === ':method' ? 'OPTIONS' : n === ':path' ? '*' : v,
    ]);
    assert.equal(typeof checkRequest(options), 'object');
    assert.match(
      malformedRequest(GET.map(([n, v]) => [n, n === ':path' ? 'index.html' : v])),
      /invalid :path/,
    );
  });

  it('§4.4 CONNECT carries :method and :authority only', () => {
    const connect: FieldLine[] = [
      [':method', 'CONNECT'],
      [':authority', 'example.org:443'],
    ];
    assert.deepEqual(checkRequest(connect), { method: 'CONNECT', contentLength: -1 });
    assert.match(malformedRequest([...connect, [':path', '/']]), /CONNECT/);
    assert.match(malformedRequest([[':method', 'CONNECT']]), /CONNECT without :authority/);
  });

  it('§4.3 rejects response or unknown pseudo-header fields, and pseudo-header fields after regular ones', () => {
    assert.match(malformedRequest([...GET, [':status', '200']]), /pseudo-header/);
    assert.match(malformedRequest([...GET, [':protocol', 'websocket']]), /pseudo-header/);
    assert.match(malformedRequest([GET[0], ['accept', '*/*'], ...GET.slice(1)]), /after a regular field/);
  });
});

describe('RFC 9114 §4.2 HTTP fields', () => {
  it('uppercase field names are malformed', () => {
    assert.match(malformedRequest([...GET, ['User-Agent', 'x']]), /uppercase/);
    assert.match(invalidFieldName('Content-Type') ?? '', /uppercase/);
  });

  it('names are lowercase tokens; values carry no NUL, CR or LF', () => {
    assert.match(malformedRequest([...GET, ['bad name', 'x']]), /invalid character/);
    assert.match(malformedRequest([...GET, ['', 'x']]), /empty/);
    for (const bad of ['a\r\nb', 'a\nb', 'a\0b'])
      assert.match(malformedRequest([...GET, ['x-test', bad]]), /NUL, CR or LF/);
  });

  it('connection-specific fields are malformed; TE only as "trailers" in a request', () => {
    for (const name of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])
      assert.match(malformedRequest([...GET, [name, 'x']]), /connection-specific/);
    assert.equal(typeof checkRequest([...GET, ['te', 'trailers']]), 'object');
    assert.match(malformedRequest([...GET, ['te', 'gzip']]), /te/);
    assert.equal(
      typeof checkResponse([
        [':status', '200'],
        ['te', 'trailers'],
      ]),
      'string',
    );
  });

  it('property: a request with any valid lowercase field passes; the same name uppercased does not', () => {
    const tchar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.!#$%&*+^`|~');
    const name = fc
      .array(tchar, { minLength: 1, maxLength: 20 })
      .map((cs) => cs.join(''))
      .filter(
        (n) =>
          ![
            'connection',
            'keep-alive',
            'proxy-connection',
            'transfer-encoding',
            'upgrade',
            'te',
            'host',
            'content-length',
          ].includes(n),
      );
    const value = fc.string({ maxLength: 30 }).filter((v) => !/[\0\r\n]/.test(v));
    fc.assert(
      fc.property(name, value, (n, v) => {
        assert.equal(typeof checkRequest([...GET, [n, v]]), 'object');
        if (/[a-z]/.test(n)) assert.match(malformedRequest([...GET, [n.toUpperCase(), v]]), /uppercase/);
      }),
    );
  });

  it('Content-Length: decimal digits, repeated values equal', () => {
    assert.deepEqual(checkRequest([...GET, ['content-length', '42']]), { method: 'GET', contentLength: 42 });
    assert.deepEqual(checkRequest([...GET, ['content-length', '7'], ['content-length', '7']]), {
      method: 'GET',
      contentLength: 7,
    });
    for (const bad of ['-1', '1e3', ' 5', '0x10', ''])
      assert.match(malformedRequest([...GET, ['content-length', bad]]), /content-length/);
    assert.match(
      malformedRequest([...GET, ['content-length', '7'], ['content-length', '8']]),
      /content-length/,
    );
  });
});

describe('RFC 9114 §4.3.2 response pseudo-header fields, §4.3 trailers', () => {
  it('a response has exactly one three-digit :status, never 101 (§4.5)', () => {
    assert.deepEqual(checkResponse([[':status', '204']]), { status: 204, contentLength: -1 });
    assert.match(checkResponse([['server', 'x']]) as string, /missing :status/);
    assert.match(
      checkResponse([
        [':status', '200'],
        [':status', '200'],
      ]) as string,
      /repeated/,
    );
    for (const bad of ['20', '2000', 'abc', '600', '099'])
      assert.match(checkResponse([[':status', bad]]) as string, /invalid :status/);
    assert.match(checkResponse([[':status', '101']]) as string, /101/);
    assert.match(
      checkResponse([
        [':status', '200'],
        [':path', '/'],
      ]) as string,
      /pseudo-header/,
    );
  });

  it('trailers carry no pseudo-header fields', () => {
    assert.equal(checkTrailers([['grpc-status', '0']]), null);
    assert.match(checkTrailers([[':status', '200']]) ?? '', /pseudo-header/);
    assert.match(checkTrailers([['Grpc-Status', '0']]) ?? '', /uppercase/);
  });

  it('responses to HEAD, 1xx, 204 and 304 have no content', () => {
    assert.equal(responseHasNoContent('HEAD', 200), true);
    assert.equal(responseHasNoContent('GET', 204), true);
    assert.equal(responseHasNoContent('GET', 304), true);
    assert.equal(responseHasNoContent('GET', 200), false);
  });
});

describe('RFC 9114 §4.1 message frame sequence (MessageState)', () => {
  it('HEADERS, DATA*, trailers, end', () => {
    const m = new MessageState(true);
    assert.equal(m.onHeaders([...GET, ['content-length', '5']]), 'request');
    m.onData(2);
    m.onData(0);
    m.onData(3);
    assert.equal(m.onHeaders([['x-checksum', 'abc']]), 'trailers');
    m.onEnd();
    assert.equal(m.phase, 'done');
  });

  it('DATA before HEADERS, and HEADERS or DATA after the trailers, are H3_FRAME_UNEXPECTED connection errors', () => {
    assert.throws(
      () => new MessageState(true).onData(1),
      isH3(H3ErrorCode.H3_FRAME_UNEXPECTED, 'connection'),
    );
    assert.throws(
      () => new MessageState(true).onData(0),
      isH3(H3ErrorCode.H3_FRAME_UNEXPECTED, 'connection'),
    );
    const m = new MessageState(true);
    m.onHeaders(GET);
    m.onHeaders([['x-trailer', '1']]);
    assert.throws(() => m.onData(1), isH3(H3ErrorCode.H3_FRAME_UNEXPECTED, 'connection'));
    assert.throws(() => m.onHeaders([['x', '1']]), isH3(H3ErrorCode.H3_FRAME_UNEXPECTED, 'connection'));
  });

  it('§4.1.2 malformed header sections are H3_MESSAGE_ERROR stream errors', () => {
    assert.throws(
      () => new MessageState(true).onHeaders(GET.slice(0, 3)),
      isH3(H3ErrorCode.H3_MESSAGE_ERROR, 'stream'),
    );
    assert.throws(
      () => new MessageState(false).onHeaders([['server', 'x']]),
      isH3(H3ErrorCode.H3_MESSAGE_ERROR, 'stream'),
    );
    const m = new MessageState(true);
    m.onHeaders(GET);
    assert.throws(() => m.onHeaders([[':status', '200']]), isH3(H3ErrorCode.H3_MESSAGE_ERROR, 'stream'));
  });

  it('§4.1.2 Content-Length must equal the DATA received', () => {
    const over = new MessageState(true);
    over.onHeaders([...GET, ['content-length', '3']]);
    over.onData(2);
    assert.throws(() => over.onData(2), isH3(H3ErrorCode.H3_MESSAGE_ERROR, 'stream'));
    const under = new MessageState(true);
    under.onHeaders([...GET, ['content-length', '3']]);
    under.onData(2);
    assert.throws(() => under.onEnd(), isH3(H3ErrorCode.H3_MESSAGE_ERROR, 'stream'));
  });

  it('interim responses precede the final one; a response to HEAD has a Content-Length but no content', () => {
    const m = new MessageState(false, 'HEAD');
    assert.equal(
      m.onHeaders([
        [':status', '103'],
        ['link', '</a.css>; rel=preload'],
      ]),
      'interim',
    );
    assert.equal(
      m.onHeaders([
        [':status', '200'],
        ['content-length', '1000'],
      ]),
      'response',
    );
    assert.throws(() => m.onData(10), isH3(H3ErrorCode.H3_MESSAGE_ERROR, 'stream'));
    const ok = new MessageState(false, 'HEAD');
    ok.onHeaders([
      [':status', '200'],
      ['content-length', '1000'],
    ]);
    ok.onEnd();
  });

  it('a stream that ends without a complete message: H3_REQUEST_INCOMPLETE (request), H3_MESSAGE_ERROR (response)', () => {
    assert.throws(() => new MessageState(true).onEnd(), isH3(H3ErrorCode.H3_REQUEST_INCOMPLETE, 'stream'));
    const interimOnly = new MessageState(false);
    interimOnly.onHeaders([[':status', '100']]);
    assert.throws(() => interimOnly.onEnd(), isH3(H3ErrorCode.H3_MESSAGE_ERROR, 'stream'));
  });

  it('§4.4 a CONNECT tunnel carries DATA that Content-Length does not bound', () => {
    const m = new MessageState(false, 'CONNECT');
    m.onHeaders([
      [':status', '200'],
      ['content-length', '0'],
    ]);
    m.onData(100);
    m.onEnd();
  });
});
