// The shim's side of the boundary: read and send take (bytes, offset,
// length), and a span outside the bytes is refused with EFAULT before any
// system call is made, for an ArrayBuffer (what the server passes: the wasm
// memory's own buffer) and for a view, whose bounds are its own, not its
// buffer's.
import { suite, assert } from "./support/uvu.ts";
import { createConnection, type Socket } from "node:net";
import { once } from "node:events";
import { Errno, K, accept4, bind, check, close, getsockname, latin1Decoder, listen, read, send, sendEach, shutdown, socket } from "../src/socket/syscalls.ts";

const test = suite("shim");
const EFAULT = -Errno.EFAULT;
const EBADF = -Errno.EBADF;
const EAGAIN = -Errno.EAGAIN;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A descriptor that is certainly not open: a span the shim accepts reaches the kernel and comes back EBADF. */
const NOT_OPEN = 1 << 20;

test("a span outside an ArrayBuffer is refused before the system call", () => {
  const memory = new ArrayBuffer(64);
  for (const call of [read, send]) {
    assert.is(call(NOT_OPEN, memory, 0, 64), EBADF, "the whole buffer");
    assert.is(call(NOT_OPEN, memory, 64, 0), EBADF, "empty, at the end");
    assert.is(call(NOT_OPEN, memory, 60, 5), EFAULT, "one past the end");
    assert.is(call(NOT_OPEN, memory, 65, 0), EFAULT, "starting past the end");
    assert.is(call(NOT_OPEN, memory, -1, 1), EFAULT, "a negative offset");
    assert.is(call(NOT_OPEN, memory, 1, -1), EFAULT, "a negative length");
    assert.is(call(NOT_OPEN, memory, 0x7fffffff, 0x7fffffff), EFAULT, "a sum past 32 bits");
  }
});

test("a buffer called into until the optimizing compiler has the calls, then detached, is refused", () => {
  for (const call of [read, send]) {
    const memory = new ArrayBuffer(64);
    for (let i = 0; i < 100_000; i++) assert.is(call(NOT_OPEN, memory, 0, 64), EBADF);
    structuredClone(memory, { transfer: [memory] });
    assert.is(call(NOT_OPEN, memory, 0, 64), EFAULT, "the old span, after the detach");
  }
});

test("an ArrayBuffer the argument-free pair has seen, once detached, is refused, never touched; a resizable one is checked as it is now", () => {
  for (const call of [read, send]) {
    const memory = new ArrayBuffer(64);
    assert.is(call(NOT_OPEN, memory, 0, 64), EBADF, "seen whole first");
    structuredClone(memory, { transfer: [memory] }); // detached: its bytes belong to another buffer now
    assert.is(call(NOT_OPEN, memory, 0, 64), EFAULT, "the old span, after the detach");
    assert.is(call(NOT_OPEN, memory, 0, 0), EBADF, "empty is still a span of it");

    const growing = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(16, { maxByteLength: 64 });
    assert.is(call(NOT_OPEN, growing, 0, 32), EFAULT, "past its length now");
    growing.resize(64);
    assert.is(call(NOT_OPEN, growing, 0, 64), EBADF, "within its length after growing");
    growing.resize(8);
    assert.is(call(NOT_OPEN, growing, 0, 16), EFAULT, "past its length after shrinking");
  }
});

test("the shim's latin1 decoder reads a view of a region, one character per byte, and nothing outside it", () => {
  const memory = new ArrayBuffer(64);
  const bytes = new Uint8Array(memory, 8, 16);
  bytes.set([0x47, 0x45, 0x54, 0x20, 0xe9, 0xff, 0x00, 0x2f]);
  const decode = latin1Decoder(bytes)!;
  assert.is(decode(0, 8), "GET \u00e9\u00ff\u0000/");
  assert.is(decode(4, 6), "\u00e9\u00ff");
  assert.is(decode(16, 16), "");
  assert.throws(() => decode(0, 17), RangeError, "past the view's end");
  assert.throws(() => decode(-1, 2), RangeError);
  assert.throws(() => decode(3, 2), RangeError);
  structuredClone(memory, { transfer: [memory] });
  assert.throws(() => decode(0, 1), RangeError, "after the detach");
});

test("a view's span is checked against the view, and its offset applied", () => {
  const view = new Uint8Array(new ArrayBuffer(64), 16, 32);
  const wide = new Int32Array(new ArrayBuffer(64), 8, 4); // 16 bytes
  for (const call of [read, send]) {
    assert.is(call(NOT_OPEN, view, 0, 32), EBADF);
    assert.is(call(NOT_OPEN, view, 1, 32), EFAULT, "inside the buffer, past the view");
    assert.is(call(NOT_OPEN, wide, 0, 16), EBADF, "lengths are in bytes");
    assert.is(call(NOT_OPEN, wide, 0, 17), EFAULT);
  }
  assert.is(read(NOT_OPEN, {} as ArrayBuffer, 0, 0), EFAULT, "not bytes at all");
});

test("bytes land at the offset of an ArrayBuffer, and leave from one", async () => {
  const listener = check("socket", socket(K.AF_INET, K.SOCK_STREAM | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC, 0));
  let fd = -1;
  let client: Socket | null = null;
  try {
    check("bind", bind(listener, K.AF_INET, "127.0.0.1", 0));
    check("listen", listen(listener, 1));
    const port = (getsockname(listener) as [number, string, number])[2];
    client = createConnection(port, "127.0.0.1");
    await once(client, "connect");
    for (let i = 0; i < 200 && fd < 0; i++) {
      const got = accept4(listener, K.SOCK_NONBLOCK | K.SOCK_CLOEXEC);
      if (got >= 0) fd = got;
      else await sleep(5);
    }
    assert.ok(fd >= 0, "accepted");

    const memory = new ArrayBuffer(32);
    client.write("hello");
    let n = EAGAIN;
    for (let i = 0; i < 200 && n === EAGAIN; i++) {
      n = read(fd, memory, 10, 22);
      if (n === EAGAIN) await sleep(5);
    }
    assert.is(n, 5);
    assert.is(Buffer.from(memory, 10, 5).toString(), "hello");
    assert.is(new Uint8Array(memory)[9], 0, "nothing before the offset");

    const answer = once(client, "data");
    assert.is(send(fd, memory, 11, 3), 3);
    assert.is(String((await answer)[0]), "ell");
  } finally {
    client?.destroy();
    if (fd >= 0) close(fd);
    close(listener);
  }
});

test("send_each refuses a count beyond its arrays and a span outside the bytes, sending nothing", () => {
  const fds = new Int32Array([NOT_OPEN, NOT_OPEN]);
  const results = new Int32Array([7, 7]);
  const bytes = new Uint8Array(16);
  assert.is(sendEach(fds, 3, bytes, 0, 16, results), -Errno.EINVAL, "more than fds holds");
  assert.is(sendEach(fds, 2, bytes, 0, 16, new Int32Array(1)), -Errno.EINVAL, "more than results holds");
  assert.is(sendEach(fds, -1, bytes, 0, 16, results), -Errno.EINVAL, "a negative count");
  assert.is(sendEach(new Int16Array(2) as unknown as Int32Array, 2, bytes, 0, 16, results), -Errno.EINVAL, "not an Int32Array");
  assert.is(sendEach(fds, 2, bytes, 1, 16, results), EFAULT, "one past the end");
  assert.is(sendEach(fds, 2, bytes, -1, 1, results), EFAULT, "a negative offset");
  assert.is(sendEach(fds, 2, bytes, 8, 2 ** 32 - 4, results), EFAULT, "a sum that 32 bits would wrap to 4");
  assert.is(sendEach(fds, 2, bytes, 2 ** 32, 5, results), EFAULT, "an offset that 32 bits would wrap to 0");
  assert.is(sendEach(fds, 2, bytes, 0, 2 ** 32 + 3, results), EFAULT, "a length that 32 bits would wrap to 3");
  assert.is(sendEach(fds, 2, bytes, Number.NaN, 5, results), EFAULT, "an offset that is not a number");
  assert.is(sendEach(fds, 2, bytes, 1.5, 5, results), EFAULT, "an offset that is not whole");
  assert.is(sendEach(fds, 2 ** 32 + 1, bytes, 0, 5, results), -Errno.EINVAL, "a count that 32 bits would wrap to 1");
  assert.equal([...results], [7, 7], "no result written");
  assert.is(sendEach(fds, 2, bytes, 0, 16, results), 0);
  assert.equal([...results], [EBADF, EBADF], "each descriptor's own errno");
});

test("send_each gives each descriptor the same bytes and its own result: all, short, -errno", async () => {
  const listener = check("socket", socket(K.AF_INET, K.SOCK_STREAM | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC, 0));
  const clients: Socket[] = [];
  const fds: number[] = [];
  try {
    check("bind", bind(listener, K.AF_INET, "127.0.0.1", 0));
    check("listen", listen(listener, 8));
    const port = (getsockname(listener) as [number, string, number])[2];
    for (let i = 0; i < 4; i++) {
      const client = createConnection(port, "127.0.0.1");
      clients.push(client);
      await once(client, "connect");
      let fd = -1;
      for (let j = 0; j < 200 && fd < 0; j++) {
        fd = accept4(listener, K.SOCK_NONBLOCK | K.SOCK_CLOEXEC);
        if (fd < 0) await sleep(5);
      }
      assert.ok(fd >= 0, "accepted");
      fds.push(fd);
    }
    check("shutdown", shutdown(fds[2], K.SHUT_WR)); // its sends fail with EPIPE
    const memory = new ArrayBuffer(1 << 23);
    new Uint8Array(memory).set(Buffer.from("hello"), 100);
    const targets = new Int32Array([fds[0], -1, fds[2], fds[1], NOT_OPEN]);
    const results = new Int32Array(5);
    const got = [once(clients[0], "data"), once(clients[1], "data")];
    assert.is(sendEach(targets, 5, memory, 100, 5, results), 2);
    assert.equal([...results], [5, EBADF, -Errno.EPIPE, 5, EBADF]);
    assert.equal((await Promise.all(got)).map(([data]) => String(data)), ["hello", "hello"]);

    clients[3].pause(); // takes none: the kernel's buffers fill, and the send is short
    const large = sendEach(new Int32Array([fds[3]]), 1, memory, 0, memory.byteLength, results);
    assert.is(large, 0);
    assert.ok(results[0] > 0 && results[0] < memory.byteLength, `short: ${results[0]}`);
    assert.is(sendEach(new Int32Array([fds[3]]), 1, memory, 0, memory.byteLength, results), 0);
    assert.is(results[0], EAGAIN, "full: refused");
  } finally {
    for (const client of clients) client.destroy();
    for (const fd of fds) close(fd);
    close(listener);
  }
});

test.run();
