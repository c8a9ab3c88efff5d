/**
 * The trace files of a client or server session: one qlog (.sqlog, JSON-SEQ) per connection in a
 * directory, named by the Original Destination Connection ID and the role like ngtcp2's; TLS
 * secrets appended to an SSLKEYLOGFILE; and a pcapng capture with the secrets embedded (Decryption
 * Secrets Blocks) so that Wireshark opens one file and shows plaintext.
 *
 * The Config holds one Tracer and a connection takes it when it is created, so a connection gets
 * its own qlog by finding a fresh `ConnectionQlog` in the Config at that moment: the client
 * installs one right before `connect()`, the server installs the next one as soon as a
 * connection took the previous one (its 'connection' event fires synchronously after `accept`).
 * A ConnectionQlog holds its events in memory until the connection's ODCID is known.
 *
 * Files are written synchronously through buffers (a CLI process and its trace files live and die
 * together; nothing is lost when the process exits right after `close()`).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/connection/config.ts';
import type { QlogEventMap, QlogEventName } from '../../core/trace/events.ts';
import { HTTP3_EVENT_SCHEMA } from '../../core/trace/h3-events.ts';
import { KeyLog } from '../../core/trace/keylog.ts';
import { PcapngWriter } from '../../core/trace/pcapng.ts';
import { QlogJsonSeqWriter } from '../../core/trace/qlog-writer.ts';
import type { Tracer } from '../../core/trace/tracer.ts';
import { toHex } from '../../core/wire/buffer.ts';
import type { DatagramEvent, QuicConnectionHandle } from '../endpoint/endpoint.ts';
import type { QuicEndpointBase } from '../endpoint/endpoint.ts';

/** Where a session writes its traces (each optional). */
export interface TraceOptions {
  /** A directory for one `<odcid>_<role>.sqlog` per connection (created if missing). */
  qlogDir?: string | null;
  /** An SSLKEYLOGFILE the TLS secrets are appended to. */
  keylogFile?: string | null;
  /** A pcapng capture of every datagram, with the secrets embedded. */
  pcapFile?: string | null;
}

const FLUSH_AT = 256 * 1024;

/** A file written synchronously through a buffer (strings or bytes). */
export class FileSink {
  private fd: number | null;
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(
    readonly path: string,
    flags: 'w' | 'a' = 'w',
  ) {
    this.fd = openSync(path, flags);
  }

  /** Appends text (UTF-8) or bytes (kept by reference until the next flush). */
  write(data: string | Uint8Array): void {
    if (this.fd === null) return;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.chunks.push(bytes);
    this.buffered += bytes.length;
    if (this.buffered >= FLUSH_AT) this.flush();
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.fd === null || this.chunks.length === 0) return;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    for (let off = 0; off < all.length;) off += writeSync(this.fd, all, off, all.length - off);
  }

  /** Flushes and closes the file. */
  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }
}

interface Held {
  time: number;
  name: QlogEventName;
  data: unknown;
}

/** One connection's qlog: events are held until `open()` names the file, then streamed to it. */
export class ConnectionQlog implements Tracer {
  readonly enabled = true;
  private held: Held[] | null = [];
  private writer: QlogJsonSeqWriter | null = null;
  private sink: FileSink | null = null;
  private startTime: number | null = null;
  /** The file, once open. */
  path: string | null = null;

  constructor(
    private readonly dir: string,
    readonly role: 'client' | 'server',
  ) {}

  event<N extends QlogEventName>(timeMs: number, name: N, data: QlogEventMap[N]): void {
    if (this.writer !== null) {
      this.writer.event(timeMs, name, data);
      return;
    }
    if (this.held === null) return; // closed
    this.startTime ??= timeMs;
    this.held.push({ time: timeMs, name, data });
  }

  /** Names the file by the connection's ODCID and writes what was held; later events go straight in. */
  open(odcid: Uint8Array): void {
    if (this.writer !== null || this.held === null) return;
    const odcidHex = toHex(odcid);
    this.path = join(this.dir, `${odcidHex === '' ? 'unknown' : odcidHex}_${this.role}.sqlog`);
    const sink = new FileSink(this.path);
    this.sink = sink;
    const writer = new QlogJsonSeqWriter((chunk) => sink.write(chunk), {
      vantagePoint: this.role,
      odcid: odcidHex,
      referenceTime: this.startTime ?? performance.timeOrigin + performance.now(),
      eventSchemas: [HTTP3_EVENT_SCHEMA],
    });
    this.writer = writer;
    for (const e of this.held) writer.event(e.time, e.name, e.data as QlogEventMap[QlogEventName]);
    this.held = null;
  }

  /** Flushes and closes the file (opening it first if the ODCID never became known). */
  close(fallbackId: Uint8Array): void {
    if (this.writer === null && this.held !== null) this.open(fallbackId);
    this.held = null;
    this.sink?.close();
    this.sink = null;
  }
}

/** The ODCID of a connection: the client's first DCID (RFC 9000 §7.3), as either side knows it. */
export function originalDcid(handle: QuicConnectionHandle): Uint8Array | null {
  const conn = handle.connection;
  if (!conn.isServer) return null;
  return conn.localTransportParameters()?.originalDestinationConnectionId ?? handle.initialDcid ?? null;
}

/** The trace files of one session (a CLI run): see the module comment. */
export class SessionTraces {
  private readonly keylog = new KeyLog();
  private readonly keylogFile: FileSink | null;
  private readonly pcapFile: FileSink | null;
  private readonly pcap: PcapngWriter | null;
  private readonly qlogDir: string | null;
  private readonly qlogs = new Set<ConnectionQlog>();
  private pending: ConnectionQlog | null = null;
  /** The qlog files written (paths), for the summary. */
  readonly qlogFiles: string[] = [];

  constructor(
    options: TraceOptions,
    private readonly role: 'client' | 'server',
  ) {
    this.qlogDir = options.qlogDir ?? null;
    if (this.qlogDir !== null) mkdirSync(this.qlogDir, { recursive: true });
    this.keylogFile = options.keylogFile ? new FileSink(options.keylogFile, 'a') : null;
    const pcapFile = options.pcapFile ? new FileSink(options.pcapFile) : null;
    this.pcapFile = pcapFile;
    this.pcap =
      pcapFile === null ? null : new PcapngWriter((b) => pcapFile.write(b), { keylog: this.keylog });
  }

  /** Whether any trace is on. */
  get active(): boolean {
    return this.qlogDir !== null || this.keylogFile !== null || this.pcap !== null;
  }

  /** Installs the key log sink (and, server side, the first pending qlog) in `config`. */
  configure(config: Config): void {
    if (this.keylogFile !== null || this.pcap !== null) {
      const file = this.keylogFile;
      config.setKeylog((line) => {
        this.keylog.addLine(line);
        if (file !== null) {
          file.write(line + '\n');
          file.flush(); // a key log is read while the capture runs
        }
      });
    }
    if (this.role === 'server') this.prepare(config);
  }

  /** Client: installs a fresh qlog in `config` for the connection about to be created. */
  prepare(config: Config): void {
    if (this.qlogDir === null) return;
    this.pending = new ConnectionQlog(this.qlogDir, this.role);
    config.setTracer(this.pending);
  }

  /**
   * Takes the qlog the new connection picked up (and, server side, installs the next one); opens
   * its file as soon as the ODCID is known. Returns the connection's tracer, for its H3 layer.
   */
  attach(handle: QuicConnectionHandle, config: Config): Tracer | undefined {
    const q = this.pending;
    if (q === null) return undefined;
    this.pending = null;
    if (this.role === 'server') this.prepare(config);
    this.qlogs.add(q);
    if (this.role === 'client') q.open(handle.connection.destinationId());
    else {
      const off = handle.on('activity', () => {
        const odcid = originalDcid(handle);
        if (odcid !== null) {
          off();
          q.open(odcid);
        }
      });
    }
    void handle.closed.then(() => {
      q.close(originalDcid(handle) ?? handle.connection.sourceId());
      this.qlogs.delete(q);
      if (q.path !== null) this.qlogFiles.push(q.path);
    });
    return q;
  }

  /** Captures the datagrams of `endpoint` into the pcapng file. */
  capture(endpoint: QuicEndpointBase): void {
    const pcap = this.pcap;
    if (pcap === null) return;
    endpoint.on('datagram', (d: DatagramEvent) => {
      pcap.writeDatagram(d.time, d.data, {
        from: d.from,
        to: d.to,
        direction: d.direction === 'sent' ? 'outbound' : 'inbound',
      });
    });
  }

  /** Flushes and closes every file. */
  close(): void {
    for (const q of this.qlogs) q.close(new Uint8Array(0));
    this.qlogs.clear();
    this.keylogFile?.close();
    this.pcapFile?.close();
  }
}
