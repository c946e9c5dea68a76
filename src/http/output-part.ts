// What goes out on a connection: bytes, or a range of an open file that
// sendfile(2) sends. The response makes them; the queue, outbox and cork
// carry them down to the system call.
import { close } from "../socket/syscalls.js";

/**
 * A byte range of an open file, sent by sendfile(2). It owns the descriptor:
 * close() runs once the range is sent, or when it is dropped.
 */
export class FileRegion {
  private open = true;
  constructor(readonly fd: number, public offset: number, public remaining: number) {}

  close(): void {
    if (!this.open) return;
    this.open = false;
    close(this.fd);
  }
}

/** What goes out on a connection: bytes, or a file's range. */
export type OutputPart = Uint8Array | FileRegion;

/** Closes the file regions among `parts`: they will not be sent. */
export function dropFiles(parts: readonly OutputPart[]): void {
  for (const part of parts) if (part instanceof FileRegion) part.close();
}

/** Bytes of memory that output parts hold (a file region holds a descriptor, not bytes). */
export function memoryOf(parts: readonly OutputPart[]): number {
  let n = 0;
  for (const part of parts) if (!(part instanceof FileRegion)) n += part.length;
  return n;
}

/** Whether a file region is among `parts`. */
export function hasFile(parts: readonly OutputPart[]): boolean {
  for (const part of parts) if (part instanceof FileRegion) return true;
  return false;
}

/** A part to keep: bytes are only lent, so they are copied; a file region is owned already. */
export function copy(part: OutputPart): OutputPart {
  return part instanceof FileRegion ? part : part.slice();
}
