// A message's minimum rate (messageTimeout, messageMinRate): a client that
// trickles a fragmented message, a byte at a time, is closed with 1008; one
// that sends a large message at a fair pace is not. Clients are raw sockets
// (test/support/ws-frames.ts) against a server in this process.
import { suite, assert } from "./support/uvu.ts";
import { serve, type Server } from "../src/index.ts";
import { OP, frame, handshake, until, eventsOf } from "./support/ws-frames.ts";

const test = suite("websocket message rate");
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An echo server whose messages may take 300 ms plus a second per 100 KB. */
async function start(closes: number[]): Promise<Server> {
  return serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("plain"),
    websocket: {
      messageTimeout: 0.3,
      messageMinRate: 100_000,
      message: (ws, message, isBinary) => void ws.send(message, { binary: isBinary }),
      close: (_ws, code) => void closes.push(code),
    },
  });
}

test("a client trickling a fragmented message a byte every 50 ms is closed with 1008", async () => {
  const closes: number[] = [];
  const server = await start(closes);
  try {
    const client = await handshake(server.port);
    client.socket.write(frame({ opcode: OP.TEXT, payload: "a", fin: false }));
    let sent = 1;
    // Each byte resets the idle timeout; only the message's rate can end this.
    while (!client.isEnded() && sent < 60) {
      await sleep(50);
      if (!client.socket.destroyed) client.socket.write(frame({ opcode: OP.CONT, payload: "a", fin: false }));
      sent++;
    }
    assert.ok(client.isEnded(), "the server still reads the trickle after 3 s");
    assert.ok(sent < 40, `closed only after ${sent} fragments`);
    const events = await eventsOf(client.parser.frames);
    assert.equal(events.map((e) => (e.type === "close" ? e.code : e.type)), [1008]);
    assert.equal(closes, [1008]);
  } finally {
    await server.close();
  }
});

test("a client sending a 1 MB message in 64 KB pieces over a second gets its echo", async () => {
  const closes: number[] = [];
  const server = await start(closes);
  try {
    const client = await handshake(server.port);
    const message = new Uint8Array(1 << 20).fill(7);
    const whole = frame({ opcode: OP.BINARY, payload: message });
    const piece = 64 * 1024;
    // 16 pieces, one every 70 ms: over 1 s in all, far past 300 ms, at about 900 KB/s.
    for (let at = 0; at < whole.length; at += piece) {
      client.socket.write(whole.subarray(at, at + piece));
      await sleep(70);
    }
    assert.ok(await until(client, () => client.parser.frames.some((f) => f.opcode === OP.BINARY), 5000), "no echo");
    assert.is(client.parser.frames.find((f) => f.opcode === OP.BINARY)!.payload.length, message.length);
    assert.not.ok(client.isEnded());
    assert.equal(closes, []);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test.run();
