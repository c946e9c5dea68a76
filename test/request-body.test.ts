// Request bodies the client got wrong: not JSON, or larger than the server
// takes. Each is the client's fault, answered with its 4xx and never
// reported as the handler's error.
import { suite, assert } from "./support/uvu.ts";
import { serve, type Handler, type ServeOptions, type Server } from "../src/index.ts";
import { exchange, parseResponses } from "./helpers.ts";

const test = suite("request-body");

const errors: unknown[] = [];

async function withServer(handler: Handler, options: Partial<ServeOptions>, body: (server: Server) => Promise<void>): Promise<void> {
  errors.length = 0;
  const server = await serve({ port: 0, host: "127.0.0.1", handler, onError: (e) => errors.push(e), ...options });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

const post = (body: string, ...fields: string[]): string =>
  `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${fields.map((f) => `${f}\r\n`).join("")}\r\n${body}`;

test("req.json() of a body that is not JSON is 400, as a BodyError, and nothing is reported", async () => {
  const parsed: unknown[] = [];
  const handler: Handler = async (req, res) => {
    parsed.push(await req.json());
    res.end("ok");
  };
  await withServer(handler, {}, async ({ port }) => {
    const { text } = await exchange(port, [post('{"a":1}') + post("{not json", "Connection: close")]);
    const [good, bad] = parseResponses(text);
    assert.is(good.status, 200);
    assert.is(bad.status, 400);
    assert.match(bad.body, /not valid JSON/);
    assert.is(bad.headers.connection, "close");
    assert.equal(parsed, [{ a: 1 }]);
    assert.equal(errors, [], "the client's fault is not the handler's error");
  });
});

test("the default body limit is 1 MiB: one byte more is 413 before the body is read; Infinity lifts it", async () => {
  const sizes: number[] = [];
  const handler: Handler = async (req, res) => {
    sizes.push((await req.bytes()).length);
    res.end("ok");
  };
  const MiB = 1 << 20;
  await withServer(handler, {}, async ({ port }) => {
    const atLimit = await exchange(port, [post("x".repeat(MiB), "Connection: close")]);
    assert.equal(parseResponses(atLimit.text).map((r) => r.status), [200]);
    const over = await exchange(port, [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${MiB + 1}\r\n\r\n`]);
    assert.equal(parseResponses(over.text).map((r) => r.status), [413], "refused from Content-Length alone");
    const chunked = `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${(MiB / 2).toString(16)}\r\n${"y".repeat(MiB / 2)}\r\n`;
    const overChunked = await exchange(port, [chunked, `${(MiB / 2).toString(16)}\r\n${"y".repeat(MiB / 2)}\r\n`, "1\r\nz\r\n0\r\n\r\n"]);
    assert.equal(parseResponses(overChunked.text).map((r) => r.status), [413], "refused as the chunk sizes arrive");
    assert.equal(sizes, [MiB]);
    assert.equal(errors, []);
  });
  sizes.length = 0;
  await withServer(handler, { limits: { maxBodyBytes: Infinity } }, async ({ port }) => {
    const big = await exchange(port, [post("x".repeat(2 * MiB), "Connection: close")]);
    assert.equal(parseResponses(big.text).map((r) => r.status), [200]);
    assert.equal(sizes, [2 * MiB]);
  });
});

test.run();
