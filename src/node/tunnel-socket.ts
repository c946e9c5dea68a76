// The socket an 'upgrade' listener gets: a Duplex over the simplenet tunnel
// the connection became, so a library that takes over node:http's socket
// (ws's handleUpgrade) writes its own 101 and speaks its protocol through it.
import { Duplex } from "node:stream";
import type { Tunnel } from "../index.js";

export class TunnelSocket extends Duplex {
  /** The callback of the write the kernel has not taken all of yet. */
  private waiting: (() => void) | null = null;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;

  constructor(private readonly tunnel: Tunnel) {
    super({ allowHalfOpen: false });
    const remote = tunnel.remote;
    this.remoteAddress = remote.address || undefined;
    this.remotePort = remote.port || undefined;
    // The bytes are a view valid only during the call: copied.
    tunnel.ondata = (bytes) => {
      if (!this.push(Buffer.from(bytes))) tunnel.pause();
    };
    tunnel.onend = () => this.push(null);
    tunnel.ondrain = () => {
      const waiting = this.waiting;
      this.waiting = null;
      waiting?.();
    };
    tunnel.onclose = () => this.destroy();
  }

  get remoteFamily(): string | undefined {
    return this.remoteAddress === undefined ? undefined : this.remoteAddress.includes(":") ? "IPv6" : "IPv4";
  }

  override _read(): void {
    this.tunnel.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    if (this.tunnel.write(chunk) || this.tunnel.closed) done();
    else this.waiting = done;
  }

  override _writev(chunks: { chunk: Buffer }[], done: () => void): void {
    const parts: Uint8Array[] = new Array(chunks.length);
    for (let i = 0; i < chunks.length; i++) parts[i] = chunks[i].chunk;
    if (this.tunnel.write(parts) || this.tunnel.closed) done();
    else this.waiting = done;
  }

  override _final(done: () => void): void {
    this.tunnel.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.tunnel.destroy();
    done(error);
  }

  setTimeout(_ms: number, callback?: () => void): this {
    if (callback !== undefined) this.once("timeout", callback);
    return this;
  }
  /** TCP_NODELAY is always on for simplenet's connections. */
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
