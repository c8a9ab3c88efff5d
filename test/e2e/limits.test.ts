// A peer that exceeds the limits it was given gets the right connection error (RFC 9000 §4.1
// FLOW_CONTROL_ERROR, §4.6 STREAM_LIMIT_ERROR), over a lossy simulated path.
//
// Test hook: the misbehaving side's internal stream map (core/connection's `connectionState`,
// a repository-internal API) is told the peer granted more than it did, so its ordinary send
// path writes past the real limit — exactly what a buggy or hostile peer would put on the wire.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionState } from '../../core/connection/connection.ts';
import { TransportError } from '../../core/index.ts';
import { handshake, makePair } from '../helpers/pair.ts';
import type { PairOptions } from '../helpers/pair.ts';

function violate(options: PairOptions, misbehave: (sim: ReturnType<typeof makePair>) => void) {
  const sim = makePair(options);
  handshake(sim, { maxTime: 120_000 });
  misbehave(sim);
  sim.run({ maxTime: 120_000 });
  return { client: sim.client.c, server: sim.server.c };
}

const data = (n: number) => new Uint8Array(n).fill(0x5a);

describe('RFC 9000 §4.6 STREAM_LIMIT_ERROR', () => {
  for (const loss of [0, 0.1]) {
    it(`a client opening more bidirectional streams than MAX_STREAMS allows (${loss * 100}% loss)`, () => {
      const { client, server } = violate(
        { seed: 400 + loss * 100, link: { loss }, server: (c) => c.setInitialMaxStreamsBidi(3) },
        (sim) => {
          connectionState(sim.client.c).streams.onMaxStreams('bidirectional', 50);
          for (let i = 0; i < 5; i++) sim.client.c.streamSend(i * 4, data(10), true);
        },
      );
      assert.equal(server.localError()?.code, TransportError.STREAM_LIMIT_ERROR);
      assert.equal(server.localError()?.isApp, false);
      assert.equal(client.peerError()?.code, TransportError.STREAM_LIMIT_ERROR);
    });
  }

  it('a server opening more unidirectional streams than the client allows', () => {
    const { client, server } = violate({ seed: 402, client: (c) => c.setInitialMaxStreamsUni(2) }, (sim) => {
      connectionState(sim.server.c).streams.onMaxStreams('unidirectional', 50);
      for (let i = 0; i < 4; i++) sim.server.c.streamSend(i * 4 + 3, data(10), true);
    });
    assert.equal(client.localError()?.code, TransportError.STREAM_LIMIT_ERROR);
    assert.equal(server.peerError()?.code, TransportError.STREAM_LIMIT_ERROR);
  });
});

describe('RFC 9000 §4.1 FLOW_CONTROL_ERROR', () => {
  for (const loss of [0, 0.1]) {
    it(`a client sending beyond the connection's MAX_DATA (${loss * 100}% loss)`, () => {
      const { client, server } = violate(
        { seed: 410 + loss * 100, link: { loss }, server: (c) => c.setInitialMaxData(20_000) },
        (sim) => {
          connectionState(sim.client.c).streams.onMaxData(1 << 30);
          sim.client.c.streamSend(0, data(60_000), false);
        },
      );
      assert.equal(server.localError()?.code, TransportError.FLOW_CONTROL_ERROR);
      assert.equal(client.peerError()?.code, TransportError.FLOW_CONTROL_ERROR);
    });
  }

  it("a client sending beyond a stream's MAX_STREAM_DATA", () => {
    const { client, server } = violate(
      { seed: 412, server: (c) => c.setInitialMaxStreamDataBidiRemote(4_000) },
      (sim) => {
        sim.client.c.streamSend(0, data(10), false);
        connectionState(sim.client.c)
          .streams.get(0)!
          .send!.onMaxStreamData(1 << 30);
        sim.client.c.streamSend(0, data(30_000), false);
      },
    );
    assert.equal(server.localError()?.code, TransportError.FLOW_CONTROL_ERROR);
    assert.equal(client.peerError()?.code, TransportError.FLOW_CONTROL_ERROR);
  });

  it('a server sending beyond the MAX_STREAM_DATA of a unidirectional stream', () => {
    const { client, server } = violate(
      { seed: 413, client: (c) => c.setInitialMaxStreamDataUni(3_000) },
      (sim) => {
        sim.server.c.streamSend(3, data(10), false);
        connectionState(sim.server.c)
          .streams.get(3)!
          .send!.onMaxStreamData(1 << 30);
        sim.server.c.streamSend(3, data(20_000), false);
      },
    );
    assert.equal(client.localError()?.code, TransportError.FLOW_CONTROL_ERROR);
    assert.equal(server.peerError()?.code, TransportError.FLOW_CONTROL_ERROR);
  });
});
