// The PROXY protocol on a listener: the header a proxy sends first names the
// real client, in text (v1) or binary (v2).
import { suite, assert } from "./support/uvu.ts";
import { serve, type Server } from "../src/index.ts";
import { exchange, parseResponses } from "./helpers.ts";

const test = suite("PROXY protocol");
const request = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

function v2(family: number, address: number[], port: number, command = 0x21): Uint8Array {
  const signature = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
  const destination = address.map(() => 0);
  const body = [...address, ...destination, port >> 8, port & 0xff, 0x01, 0xbb];
  return Uint8Array.from([...signature, command, family, body.length >> 8, body.length & 0xff, ...body]);
}

async function withServer(body: (server: Server) => Promise<void>): Promise<void> {
  const server = await serve({
    host: "127.0.0.1", port: 0, proxyProtocol: true,
    handler: (req, res) => res.end(`${req.remote.address} ${req.remote.port}`),
  });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

test("v1 TCP4 and TCP6 give the client's address; UNKNOWN keeps the socket's peer", async () => {
  await withServer(async ({ port }) => {
    const four = await exchange(port, ["PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\n" + request]);
    assert.is(parseResponses(four.text)[0].body, "203.0.113.7 51234");
    const six = await exchange(port, ["PROXY TCP6 2001:db8::7 2001:db8::1 4000 443\r\n", request]);
    assert.is(parseResponses(six.text)[0].body, "2001:db8::7 4000");
    const unknown = await exchange(port, ["PROXY UNKNOWN\r\n" + request]);
    assert.match(parseResponses(unknown.text)[0].body, /^127\.0\.0\.1 \d+$/);
  });
});

test("v2 IPv4 and IPv6, split over writes; LOCAL keeps the socket's peer", async () => {
  await withServer(async ({ port }) => {
    const header = v2(0x11, [198, 51, 100, 9], 6000);
    const four = await exchange(port, [header.subarray(0, 7), header.subarray(7), request]);
    assert.is(parseResponses(four.text)[0].body, "198.51.100.9 6000");
    const address = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09];
    const six = await exchange(port, [Buffer.concat([v2(0x21, address, 7000), Buffer.from(request)])]);
    assert.is(parseResponses(six.text)[0].body, "2001:db8::9 7000");
    const local = await exchange(port, [Buffer.concat([v2(0x11, [10, 0, 0, 1], 1, 0x20), Buffer.from(request)])]);
    assert.match(parseResponses(local.text)[0].body, /^127\.0\.0\.1 \d+$/);
  });
});

test("a connection without the header is dropped unanswered, and the server keeps serving", async () => {
  await withServer(async ({ port }) => {
    const bare = await exchange(port, [request]);
    assert.is(bare.text, "");
    assert.ok(bare.closed);
    const bad = await exchange(port, ["PROXY TCP4 not-an-address 192.0.2.1 1 2\r\n" + request]);
    assert.is(bad.text, "");
    const good = await exchange(port, ["PROXY TCP4 192.0.2.8 192.0.2.1 8 443\r\n" + request]);
    assert.is(parseResponses(good.text)[0].body, "192.0.2.8 8");
  });
});

test.run();
