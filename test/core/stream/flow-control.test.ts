import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecvFlowControl, SendFlowControl } from '../../../core/stream/flow-control.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { FrameType } from '../../../core/wire/frame-types.ts';
import { assertQuicError } from './util.ts';

describe('RFC 9000 §4.1 receive-side flow control', () => {
  it('credit beyond the advertised limit is a FLOW_CONTROL_ERROR naming the frame', () => {
    const fc = new RecvFlowControl(1000);
    fc.receive(600, 'stream 0', FrameType.STREAM);
    fc.receive(400, 'stream 0', FrameType.STREAM);
    assert.equal(fc.available, 0);
    const e = assertQuicError(
      () => fc.receive(1, 'stream 0', FrameType.RESET_STREAM),
      TransportError.FLOW_CONTROL_ERROR,
      FrameType.RESET_STREAM,
    );
    assert.match(e.message, /1001 bytes exceed the advertised limit 1000/);
    assert.equal(fc.received, 1000, 'the failed receive changed nothing');
  });

  it('a new limit is due once less than half a window is left unconsumed', () => {
    const fc = new RecvFlowControl(1000);
    fc.receive(1000, 'c', FrameType.STREAM);
    fc.consume(499);
    assert.equal(fc.shouldUpdate(), false);
    fc.consume(1);
    assert.equal(fc.shouldUpdate(), true);
    assert.equal(fc.update(0, 100), 1500, 'consumed + window');
    assert.equal(fc.shouldUpdate(), false);
  });

  it('a zero window never asks for an update', () => {
    const fc = new RecvFlowControl(0);
    assert.equal(fc.shouldUpdate(), false);
  });
});

describe('RFC 9000 §4.2 window auto-tuning', () => {
  it('doubles the window when it is used up within two RTTs of the last update, up to the maximum', () => {
    const fc = new RecvFlowControl(1000, 4000);
    const rtt = 50;
    let now = 0;
    fc.consume(500);
    fc.update(now, rtt); // first update: no history, no growth
    assert.equal(fc.window, 1000);
    const windows: number[] = [];
    for (let i = 0; i < 4; i++) {
      now += rtt; // fast reader: half a window per RTT
      fc.consume(fc.max - fc.consumed - Math.floor(fc.window / 2) + 1);
      assert.equal(fc.shouldUpdate(), true);
      fc.update(now, rtt);
      windows.push(fc.window);
    }
    assert.deepEqual(windows, [2000, 4000, 4000, 4000]);
    assert.equal(fc.max, fc.consumed + 4000);
  });

  it('keeps the window when updates are further apart than two RTTs', () => {
    const fc = new RecvFlowControl(1000, 64000);
    let now = 0;
    for (let i = 0; i < 5; i++) {
      fc.consume(fc.max - fc.consumed - 400);
      fc.update(now, 10);
      now += 25; // 2.5 RTTs between updates
    }
    assert.equal(fc.window, 1000);
  });

  it('ensureWindow grows the window but not past the maximum', () => {
    const fc = new RecvFlowControl(1000, 3000);
    fc.ensureWindow(500);
    assert.equal(fc.window, 1000);
    fc.ensureWindow(2500);
    assert.equal(fc.window, 2500);
    fc.ensureWindow(10000);
    assert.equal(fc.window, 3000);
  });
});

describe('RFC 9000 §4.1 send-side credit and blocking', () => {
  it('ignores limits that do not increase', () => {
    const fc = new SendFlowControl(100);
    assert.equal(fc.onMax(50), false);
    assert.equal(fc.onMax(100), false);
    assert.equal(fc.max, 100);
    assert.equal(fc.onMax(150), true);
    assert.equal(fc.available, 150);
  });

  it('signals DATA_BLOCKED / STREAM_DATA_BLOCKED once per limit', () => {
    const fc = new SendFlowControl(100);
    fc.consume(100);
    assert.equal(fc.blocked, true);
    fc.markBlocked();
    fc.markBlocked();
    assert.equal(fc.pollBlocked(), 100);
    fc.markBlocked();
    assert.equal(fc.pollBlocked(), null, 'not twice at the same limit');
    fc.onMax(200);
    fc.consume(100);
    fc.markBlocked();
    assert.equal(fc.pollBlocked(), 200, 'again at the new limit');
  });

  it('a pending blocked signal is dropped when the limit grows before it is sent', () => {
    const fc = new SendFlowControl(10);
    fc.consume(10);
    fc.markBlocked();
    fc.onMax(20);
    assert.equal(fc.pollBlocked(), null);
  });

  it('a lost blocked frame is sent again only while still blocked at that limit (§13.3)', () => {
    const fc = new SendFlowControl(10);
    fc.consume(10);
    fc.markBlocked();
    assert.equal(fc.pollBlocked(), 10);
    fc.onBlockedLost(10);
    assert.equal(fc.pollBlocked(), 10);
    fc.onMax(20);
    fc.onBlockedLost(10);
    assert.equal(fc.pollBlocked(), null);
  });

  it("overspending is the caller's bug: a RangeError", () => {
    const fc = new SendFlowControl(10);
    assert.throws(() => fc.consume(11), RangeError);
  });
});
