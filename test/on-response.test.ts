// serve()'s onResponse: told of every finished response, the handler's and
// the ones the server writes itself, as an access log needs.
import { suite, assert } from "./support/uvu.ts";
import { serve, type Response } from "../src/index.ts";
import { exchange, parseResponses } from "./helpers.ts";

const test = suite("on-response");

test("every response reaches onResponse: the handler's, a 400, a 408 and a 505; a listener that throws is reported", async () => {
  const finished: string[] = [];
  const errors: unknown[] = [];
  const server = await serve({
    port: 0, host: "127.0.0.1", timeouts: { headers: 100 }, onError: (e) => errors.push(e),
    handler: (_req, res) => res.end("ok"),
    onResponse: (res: Response) => {
      finished.push(`${res.request.method || "-"} ${res.request.target || "-"} ${res.status}`);
      if (res.request.target === "/throws") throw new Error("listener failed");
    },
  });
  try {
    const statuses = async (raw: string): Promise<number[]> => parseResponses((await exchange(server.port, [raw], { idleMs: 500 })).text).map((r) => r.status);
    assert.equal(await statuses("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), [200, 200]);
    assert.equal(await statuses("GET /c HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n"), [400]);
    assert.equal(await statuses("GET /slow HTTP/1.1\r\nHost: a\r\n"), [408], "a head that never ends");
    assert.equal(await statuses("GET /v HTTP/2.0\r\nHost: a\r\n\r\n"), [505]);
    assert.equal(await statuses("GET /throws HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), [200]);
    assert.equal(finished, ["GET /a 200", "GET /b 200", "- - 400", "- - 408", "- - 505", "GET /throws 200"]);
    assert.equal(errors.map((e) => (e as Error).message), ["listener failed"]);
  } finally {
    await server.close();
  }
});

test.run();
