// Closes in the middle of an epoll batch. One epoll_wait hands the loop the
// events of many descriptors; when an early event closes a connection and a
// later one accepts, accept4 returns the lowest free number — the closed
// one's, were it closed at once — and the closed connection's own event,
// still to come in the same batch, would reach the new client. The loop
// closes descriptors only once the batch is dispatched, as uSockets does.
import { suite, assert } from "./support/uvu.ts";
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import { serve, type Response } from "../src/index.ts";
import { open, parseResponses } from "./helpers.ts";

const test = suite("loop-close");

/** Descriptors this process has open now. */
const openDescriptors = (): number => readdirSync("/proc/self/fd").length;

/** Everything one connection received until it closed, and whether it was reset. */
function receiveAll(socket: Socket): Promise<{ text: string; error: string | null }> {
  const chunks: Buffer[] = [];
  let error: string | null = null;
  socket.on("data", (chunk) => chunks.push(chunk));
  socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  return once(socket, "close").then(() => ({ text: Buffer.concat(chunks).toString("latin1"), error }));
}

/** Resolves once `socket` has received `text`. */
function received(socket: Socket, text: string): Promise<void> {
  let seen = "";
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString("latin1");
      if (!seen.includes(text)) return;
      socket.off("data", onData);
      resolve();
    };
    socket.on("data", onData);
  });
}

const GET = (path: string, close = false): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n${close ? "Connection: close\r\n" : ""}\r\n`;

test("a connection closed early in a batch: new clients accepted later in it are all served", async () => {
  const before = openDescriptors();
  // A stream of events (server-sent events) to every listener; a publish
  // writes to all of them, and a listener that has gone away fails that
  // write, which closes its connection there and then.
  const streams: Response[] = [];
  const server = await serve({
    port: 0,
    host: "127.0.0.1",
    handler: (req, res) => {
      if (req.path === "/events") {
        res.setHeader("content-type", "text/event-stream");
        res.write("data: ready\n\n");
        streams.push(res);
      } else if (req.path === "/publish") {
        for (const stream of streams) stream.write("data: news\n\n");
        res.end("sent\n");
      } else {
        res.end("ok\n");
      }
    },
  });
  const LISTENERS = 6;
  const FRESH = 24; // fewer than one accept batch, more than the numbers the batch frees
  try {
    const listeners = await Promise.all(Array.from({ length: LISTENERS }, () => open(server.port)));
    await Promise.all(listeners.map((socket) => (socket.write(GET("/events")), received(socket, "ready"))));
    const publisher = await open(server.port);
    publisher.write(GET("/"));
    await received(publisher, "ok");

    // One turn of the client: the server's next epoll batch holds, in this
    // order, the publish, the listener (fresh clients connecting: net.connect
    // connects on the next tick) and the listeners' resets (after that tick).
    const published = received(publisher, "sent");
    publisher.write(GET("/publish"));
    const fresh = Array.from({ length: FRESH }, () => {
      const socket = connect({ port: server.port, host: "127.0.0.1" });
      socket.write(GET("/", true));
      return receiveAll(socket);
    });
    process.nextTick(() => {
      for (const socket of listeners) socket.resetAndDestroy();
    });

    await published;
    const answers = await Promise.all(fresh);
    const served = answers.filter(({ text }) => text !== "" && parseResponses(text)[0].body === "ok\n").length;
    assert.is(served, FRESH, `fresh clients served (the others: ${JSON.stringify(answers.filter(({ text }) => text === ""))})`);
    publisher.destroy();
    await once(publisher, "close");
  } finally {
    await server.close();
  }
  assert.is(openDescriptors(), before, "every descriptor of the server and its connections is closed");
});

test.run();
