// What a strict origin server answers itself, tested with handlers that
// answer 200 to everything they are given: methods, target forms, bodies cut
// short, and the upgrade hook with its tunnel.
import { suite, assert } from "./support/uvu.ts";
import { serve, type Handler, type ServeOptions, type Server } from "../src/index.ts";
import { exchange, open, parseResponses, sleep } from "./helpers.ts";

const test = suite("origin");

const errors: unknown[] = [];
const seen: string[] = [];
/** Reads the whole body, then answers 200: the server, not the handler, is under test. */
const yes: Handler = async (req, res) => {
  seen.push(`${req.method} ${req.target} host=${req.host}`);
  const body = await req.bytes();
  res.end(`200 for ${req.method} (${body.length} bytes)`);
};

async function withServer(options: Partial<ServeOptions>, body: (server: Server) => Promise<void>): Promise<void> {
  errors.length = 0;
  seen.length = 0;
  const server = await serve({ port: 0, host: "127.0.0.1", handler: yes, onError: (e) => errors.push(e), ...options });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

const request = (line: string, ...fields: string[]): string => `${line}\r\n${["Host: a", ...fields].map((f) => `${f}\r\n`).join("")}\r\n`;
const statuses = (text: string): number[] => parseResponses(text).map((r) => r.status);

test("methods: the default set is Node's; others are 501 before any handler; the set and the length limit are options", async () => {
  await withServer({}, async ({ port }) => {
    const { text } = await exchange(port, [request("PROPFIND /a HTTP/1.1") + request("BREW /b HTTP/1.1") + request("get /c HTTP/1.1") + request("QUERY /d HTTP/1.1")]);
    assert.equal(statuses(text), [200, 501, 501, 200]);
    assert.equal(seen, ["PROPFIND /a host=a", "QUERY /d host=a"]);
  });
  await withServer({ methods: ["GET"] }, async ({ port }) => {
    const { text } = await exchange(port, [request("GET / HTTP/1.1") + request("POST / HTTP/1.1", "Content-Length: 2") + "hi" + request("GET /again HTTP/1.1")]);
    assert.equal(statuses(text), [200, 501, 200], "the refused request's body is read past");
  });
  await withServer({ methods: "any", limits: { maxMethodBytes: 8 } }, async ({ port }) => {
    const { text } = await exchange(port, [request("BREW /pot HTTP/1.1") + request("ABCDEFGHI / HTTP/1.1")]);
    assert.equal(statuses(text), [200, 501]);
    assert.equal(seen, ["BREW /pot host=a"]);
  });
});

test("CONNECT is 501 and closes; TRACE is 405 with Allow, or an echo without secrets when allowed", async () => {
  await withServer({}, async ({ port }) => {
    const connect = await exchange(port, [request("CONNECT a:443 HTTP/1.1") + request("GET /after HTTP/1.1")]);
    assert.equal(statuses(connect.text), [501]);
    assert.ok(connect.closed);
    const trace = parseResponses((await exchange(port, [request("TRACE / HTTP/1.1", "Connection: close")])).text)[0];
    assert.is(trace.status, 405);
    assert.match(trace.headers.allow, /^ACL, BIND, .*GET.*PROPFIND/);
    assert.not.match(trace.headers.allow, /TRACE|CONNECT/);
  });
  await withServer({ allowTrace: true }, async ({ port }) => {
    const { text } = await exchange(port, [request("TRACE /t HTTP/1.1", "Cookie: secret=1", "X-Seen: yes", "Connection: close")]);
    const [echo] = parseResponses(text);
    assert.is(echo.status, 200);
    assert.is(echo.headers["content-type"], "message/http");
    assert.is(echo.body, "TRACE /t HTTP/1.1\r\nHost: a\r\nX-Seen: yes\r\nConnection: close\r\n\r\n");
    assert.equal(seen, [], "the handler never ran");
  });
});

test("target forms: absolute-form only for http and https, and its authority wins over Host", async () => {
  await withServer({}, async ({ port }) => {
    const { text } = await exchange(port, [
      request("GET localhost:80 HTTP/1.1") + request("GET http://b.example:8080/x?q HTTP/1.1") + request("GET HTTPS://u@c.example/ HTTP/1.1") +
      request("OPTIONS * HTTP/1.1"),
    ]);
    assert.equal(statuses(text), [400, 200, 200, 200]);
    assert.equal(seen, ["GET http://b.example:8080/x?q host=b.example:8080", "GET HTTPS://u@c.example/ host=c.example"]);
  });
});

test("a body cut short by the client is 400 with Connection: close, and a handler that rethrows is not reported", async () => {
  const handlers: Handler[] = [
    yes,
    async (req, res) => {
      try {
        await req.bytes();
      } catch (error) {
        throw error; // the handler gives up: the server must not call this a server error
      }
      res.end("never");
    },
  ];
  for (const handler of handlers) {
    await withServer({ handler }, async ({ port }) => {
      for (const cut of [request("POST /cl HTTP/1.1", "Content-Length: 100") + "only this", request("POST /chunked HTTP/1.1", "Transfer-Encoding: chunked") + "5\r\nhello\r\n"]) {
        const socket = await open(port);
        let received = "";
        socket.on("data", (chunk) => (received += chunk.toString("latin1")));
        const closed = new Promise((resolve) => socket.on("close", resolve));
        socket.end(cut);
        await closed;
        const [res] = parseResponses(received);
        assert.is(res?.status, 400, cut);
        assert.is(res.headers.connection, "close");
      }
      await sleep(10);
      assert.equal(errors, [], "nothing reported");
    });
  }
});

test("a body cut short after the response began closes the connection, and nothing is reported", async () => {
  await withServer({
    handler: async (req, res) => {
      res.write("started ");
      await req.bytes();
      res.end("never");
    },
  }, async ({ port }) => {
    const socket = await open(port);
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.end(request("POST / HTTP/1.1", "Content-Length: 50") + "partial");
    await closed;
    // Cut on purpose: the strict client reads it as a response whose chunked body never ended.
    const [cut] = parseResponses(received, { allowIncomplete: true });
    assert.is(cut.status, 200);
    assert.is(cut.body, "started ");
    assert.not.match(received, /0\r\n\r\n$/, "the chunked body never ends: the client sees it cut");
    assert.equal(errors, []);
  });
});

test("a streaming body over maxBodyBytes is 413, and a rethrowing handler is not reported", async () => {
  await withServer({ limits: { maxBodyBytes: 8 } }, async ({ port }) => {
    const { text } = await exchange(port, [request("POST / HTTP/1.1", "Transfer-Encoding: chunked"), "5\r\nhello\r\n", "5\r\nworld\r\n0\r\n\r\n"]);
    assert.equal(statuses(text), [413]);
    assert.equal(errors, []);
  });
});

test("upgrade hook: 101 and a tunnel that gets the bytes sent with the head; declined: served and closed", async () => {
  await withServer({
    upgrade: (req, res) => {
      if (req.headers.get("upgrade") !== "echo") {
        res.status = 426;
        res.setHeader("Upgrade", "echo");
        return res.end("echo only\n");
      }
      const tunnel = res.upgrade({ "X-Tunnel": "1" });
      tunnel.ondata = (bytes) => {
        const text = new TextDecoder().decode(bytes);
        tunnel.write(new TextEncoder().encode(`<${text}>`));
        if (text.includes("bye")) tunnel.end();
      };
    },
  }, async ({ port }) => {
    const up = request("GET /chat HTTP/1.1", "Connection: Upgrade", "Upgrade: echo");
    const { text, closed } = await exchange(port, [up + "early", "hello", "bye"], { gapMs: 30 });
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(text, /\r\nX-Tunnel: 1\r\n/);
    assert.match(text, /\r\nUpgrade: echo\r\nConnection: Upgrade\r\n/);
    assert.ok(text.endsWith("\r\n\r\n<early><hello><bye>"), JSON.stringify(text));
    assert.ok(closed, "the tunnel's end() closed the connection");
    const declined = await exchange(port, [request("GET / HTTP/1.1", "Connection: upgrade", "Upgrade: h2c") + request("GET /next HTTP/1.1")]);
    assert.equal(statuses(declined.text), [426]);
    assert.ok(declined.closed);
    const plain = await exchange(port, [request("GET /plain HTTP/1.1", "Connection: close")]);
    assert.equal(statuses(plain.text), [200], "requests that ask for nothing still reach the handler");
    assert.equal(errors, []);
  });
});

test("a tunnel whose callback throws is reported and closed; server.close() ends tunnels", async () => {
  let ended = 0;
  const server = await serve({
    port: 0, host: "127.0.0.1", handler: yes, onError: (e) => errors.push(e),
    upgrade: (_req, res) => {
      const tunnel = res.upgrade();
      tunnel.ondata = (bytes) => {
        if (bytes[0] === 0x21) throw new Error("bad byte");
      };
      tunnel.onclose = () => ended++;
    },
  });
  errors.length = 0;
  const up = request("GET / HTTP/1.1", "Connection: upgrade", "Upgrade: x");
  const thrown = await exchange(server.port, [up, "!"], { gapMs: 30 });
  assert.ok(thrown.closed);
  assert.match(String(errors[0]), /bad byte/);
  const idle = await open(server.port);
  idle.resume(); // read, so the server's FIN is seen
  idle.write(up);
  await sleep(50);
  const closed = new Promise((resolve) => idle.on("close", resolve));
  await server.close();
  await closed;
  assert.is(ended, 2);
});

test.run();
