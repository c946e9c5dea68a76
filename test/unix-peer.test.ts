// A Unix-domain peer's name as the server reports it (req.remote.address):
// exactly the bytes the kernel returned, by the length it returned. An
// unnamed client (what node:net makes) has no name; an abstract name starts
// with a NUL and is every byte up to that length; a path ends at its NUL.
import { suite, assert } from "./support/uvu.ts";
import { connect as netConnect } from "node:net";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type Server } from "../src/index.ts";
import { K, address, bind, check, close, connect, getpeername, read, send, socket } from "../src/socket/syscalls.ts";
import { parseResponses } from "./helpers.ts";

const test = suite("unix-peer");

const REQUEST = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

/** A server on `path` that answers each request with the peer's address as JSON. */
function addressServer(path: string): Promise<Server> {
  return serve({ path, handler: (req, res) => res.end(JSON.stringify(req.remote)) });
}

/** What the server says the client's address is, asked by a node:net client (an unnamed socket). */
async function askUnnamed(path: string): Promise<unknown> {
  const client = netConnect({ path });
  client.end(REQUEST);
  const chunks: Buffer[] = [];
  client.on("data", (chunk) => chunks.push(chunk));
  await once(client, "close");
  const [response] = parseResponses(Buffer.concat(chunks).toString("latin1"));
  return JSON.parse(response.body);
}

/**
 * The same, asked by a client made with system calls: one bound to `name`
 * first (a path, or an abstract name) when given. node:net cannot bind a
 * client, and Node 20 pads an abstract name it connects to with NULs to the
 * end of sun_path (a different name to the kernel).
 */
async function askRaw(path: string, name?: string): Promise<unknown> {
  const fd = check("socket", socket(K.AF_UNIX, K.SOCK_STREAM | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC, 0));
  try {
    if (name !== undefined) check("bind", bind(fd, K.AF_UNIX, name, 0));
    check("connect", connect(fd, K.AF_UNIX, path, 0));
    const request = Buffer.from(REQUEST);
    assert.is(send(fd, request, 0, request.length), request.length);
    const received: Buffer[] = [];
    const into = new Uint8Array(4096);
    for (let n = read(fd, into, 0, into.length); n !== 0; n = read(fd, into, 0, into.length)) {
      if (n > 0) received.push(Buffer.from(into.subarray(0, n)));
      else await new Promise((resolve) => setImmediate(resolve)); // EAGAIN: the server has not answered yet
    }
    const [response] = parseResponses(Buffer.concat(received).toString("latin1"));
    return JSON.parse(response.body);
  } finally {
    close(fd);
  }
}

let dir = "";
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), "simplenet-unix-peer-"));
});
test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("a server on a path: an unnamed client has no address, a named one its name exactly", async () => {
  const path = join(dir, "server.sock");
  const server = await addressServer(path);
  try {
    assert.equal(await askUnnamed(path), { address: "", port: 0 });
    const abstract = `\0simplenet-peer-${process.pid}`;
    assert.equal(await askRaw(path, abstract), { address: abstract, port: 0 });
    const named = join(dir, "client.sock");
    assert.equal(await askRaw(path, named), { address: named, port: 0 });
  } finally {
    await server.close();
  }
});

test("a server on an abstract name: bound to that name, not one with a NUL after it, and serving there", async () => {
  const name = `\0simplenet-server-${process.pid}`;
  const server = await addressServer(name);
  try {
    const fd = check("socket", socket(K.AF_UNIX, K.SOCK_STREAM | K.SOCK_CLOEXEC, 0));
    try {
      check("connect", connect(fd, K.AF_UNIX, name, 0));
      assert.equal(address("getpeername", getpeername(fd)), [K.AF_UNIX, name, 0]);
    } finally {
      close(fd);
    }
    assert.equal(await askRaw(name), { address: "", port: 0 });
  } finally {
    await server.close();
  }
});

test.run();
