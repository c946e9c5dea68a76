// Small files for serveStatic(): their bytes and what a response says of
// them, kept in memory by the path's one spelling (static.ts's keyOf: every
// way of writing a path is one entry) and trusted for `validMs`; then the
// path is resolved and the file read again (as nginx's open_file_cache_valid,
// but for the bytes too: a read from the page cache once a second per path
// costs less than tracking whether the file changed). A hit makes no system
// call to find or read the file: a 64 KiB file from memory takes less than
// half the server time of resolve, open, fstat, sendfile and close
// (bench/RESULTS.md, static-64k).
import { readSync, type Stats } from "node:fs";

export interface FileCacheOptions {
  /** Files larger than this are never held: they are sent by sendfile(2). Default 256 KiB. */
  maxFileBytes?: number;
  /** The bytes held in all; the oldest entries go first. Default 32 MiB. */
  maxBytes?: number;
  /** The files held in all (a bound on the keys, however small the files); the oldest go first. Default 1024. */
  maxEntries?: number;
  /** How long an entry is served without looking at the disk, in ms. Default 1000. */
  validMs?: number;
}

/** What a response says of a file: its size, validators and type. */
export interface FileMeta {
  readonly size: number;
  /** From size and modification time, so that any write changes it. */
  readonly etag: string;
  /** Modification time in whole seconds, as ms: what Last-Modified says and If-Modified-Since compares with. */
  readonly modifiedMs: number;
  readonly lastModified: string;
  readonly type: string;
}

export function describe(stats: Stats, type: string): FileMeta {
  const modifiedMs = Math.floor(stats.mtimeMs / 1000) * 1000;
  return {
    size: stats.size,
    etag: `"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`,
    modifiedMs,
    lastModified: new Date(modifiedMs).toUTCString(),
    type,
  };
}

/** One file as it was when read. */
export interface CachedFile {
  readonly meta: FileMeta;
  readonly body: Buffer;
  /** When it was read (performance.now()). */
  readonly readAt: number;
}

export class FileCache {
  private readonly entries = new Map<string, CachedFile>();
  private readonly maxFileBytes: number;
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  private readonly validMs: number;
  private bytes = 0;

  constructor(options: FileCacheOptions = {}) {
    this.maxFileBytes = options.maxFileBytes ?? 256 * 1024;
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.maxEntries = options.maxEntries ?? 1024;
    this.validMs = options.validMs ?? 1000;
  }

  /** The entry for `key` if it was read less than validMs ago; an older one is dropped. */
  get(key: string, now: number): CachedFile | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || now - entry.readAt < this.validMs) return entry;
    this.drop(key, entry);
    return undefined;
  }

  /**
   * Reads the regular file open as `fd`, with `stats`, that `key` resolved
   * to, and holds it. Undefined when it is too large to hold or shrank while
   * being read: send it from `fd` instead. Leaves `fd` open either way.
   */
  store(key: string, fd: number, stats: Stats, type: string, now: number): CachedFile | undefined {
    if (stats.size > this.maxFileBytes || stats.size > this.maxBytes || this.maxEntries < 1) return undefined;
    // Its own memory, not a slice of Buffer's shared pool, which a small file would keep alive whole.
    const body = Buffer.allocUnsafeSlow(stats.size);
    let got = 0;
    for (let n = 1; got < body.length && n > 0; got += n) n = readSync(fd, body, got, body.length - got, got);
    if (got !== body.length) return undefined; // it shrank under us: the next request looks again
    const entry: CachedFile = { meta: describe(stats, type), body, readAt: now };
    const previous = this.entries.get(key);
    if (previous !== undefined) this.drop(key, previous);
    // Oldest first: a Map iterates in the order its keys were set.
    for (const [oldKey, old] of this.entries) {
      if (this.bytes + body.length <= this.maxBytes && this.entries.size < this.maxEntries) break;
      this.drop(oldKey, old);
    }
    this.entries.set(key, entry);
    this.bytes += body.length;
    return entry;
  }

  private drop(key: string, entry: CachedFile): void {
    this.entries.delete(key);
    this.bytes -= entry.body.length;
  }
}
