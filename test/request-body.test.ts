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

test.run();
