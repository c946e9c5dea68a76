// Child of idle.ts: opens `count` keep-alive connections to 127.0.0.1:port,
// sends one request on each and waits for its response, `concurrency` at a
// time; prints "open <ms>" once all are idle, then holds them until killed.
import { connect } from "node:net";

const [port, count, concurrency] = process.argv.slice(2).map(Number);
const REQUEST = "GET /hi HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const held: unknown[] = [];

/** One connection through one request and response: resolves once the response's body ("Hi") has arrived. */
function openOne(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", noDelay: true }, () => socket.write(REQUEST));
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", function onData(text: string) {
      received += text;
      if (!received.endsWith("\r\n\r\nHi")) return;
      socket.off("data", onData);
      held.push(socket);
      resolve();
    });
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("server closed an idle connection")));
  });
}

const started = performance.now();
let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    next++;
    await openOne();
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
process.stdout.write(`open ${(performance.now() - started).toFixed(0)}\n`);
