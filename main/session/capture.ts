/**
 * What a session records for export besides the aggregate: the qlog events (bounded:
 * MAX_RETAINED_QLOG, the oldest dropped past it), the TLS secrets (KeyLog), and a pcapng capture of
 * every UDP datagram with synthetic IP/UDP headers and the secrets in Decryption Secrets Blocks
 * (bounded: MAX_CAPTURE_BYTES, later datagrams are counted, not kept).
 */
import { MAX_RETAINED_QLOG } from '../ipc/contract.ts';
import { KeyLog } from '../../core/trace/keylog.ts';
import { PcapngWriter } from '../../core/trace/pcapng.ts';
import { MemoryTracer } from '../../core/trace/tracer.ts';
import type { DatagramEvent } from '../endpoint/endpoint.ts';

/** Most bytes of pcapng kept per session (64 MiB). */
export const MAX_CAPTURE_BYTES = 64 * 1024 * 1024;

/** The export material of one session. */
export class SessionCapture {
  /** The qlog events kept for export (absolute endpoint-clock times). */
  readonly qlog: MemoryTracer;
  readonly keylog = new KeyLog();
  /** Datagrams not captured because the capture was full. */
  datagramsSkipped = 0;
  /** Datagrams captured. */
  datagramsCaptured = 0;
  private readonly chunks: Uint8Array[] = [];
  private bytes = 0;
  private readonly pcap: PcapngWriter;

  constructor(
    maxEvents = MAX_RETAINED_QLOG,
    private readonly maxBytes = MAX_CAPTURE_BYTES,
  ) {
    this.qlog = new MemoryTracer({ maxEvents });
    this.pcap = new PcapngWriter(
      (block) => {
        this.chunks.push(block);
        this.bytes += block.length;
      },
      { keylog: this.keylog, interfaceName: 'quicscope' },
    );
  }

  /** Adds a key log line from TLS (Config.setKeylog). */
  keylogLine(line: string): void {
    try {
      this.keylog.addLine(line);
    } catch {
      // Not a key log line: nothing to keep (TLS only writes well-formed ones).
    }
  }

  /** Records one datagram (the endpoint's 'datagram' event: a received one after its processing). */
  datagram(ev: DatagramEvent): void {
    if (this.bytes >= this.maxBytes) {
      this.datagramsSkipped++;
      return;
    }
    this.pcap.writeDatagram(ev.time, ev.data, {
      from: ev.from,
      to: ev.to,
      direction: ev.direction === 'sent' ? 'outbound' : 'inbound',
    });
    this.datagramsCaptured++;
  }

  /** The pcapng file so far (secrets learned after the last datagram are appended first). */
  pcapng(): Uint8Array {
    if (this.keylog.pending > 0) this.pcap.writeSecrets(this.keylog.takeNew());
    const out = new Uint8Array(this.bytes);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Bytes of pcapng held. */
  get captureBytes(): number {
    return this.bytes;
  }
}
