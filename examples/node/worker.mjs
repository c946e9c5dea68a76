// Worker threads: each thread that imports simplenet-parser gets its own
// instance (wasm memory is per thread). node worker.mjs
import { Worker, isMainThread, parentPort } from "node:worker_threads";
import { parseRequest, parseResponse } from "simplenet-parser";

if (isMainThread) {
  const worker = new Worker(new URL(import.meta.url));
  const messages = [
    { kind: "request", bytes: new TextEncoder().encode("GET /from-a-worker HTTP/1.1\r\nHost: example.com\r\n\r\n") },
    { kind: "response", bytes: new TextEncoder().encode("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") },
  ];
  let answers = 0;
  worker.on("message", (line) => {
    console.log(line);
    if (++answers === messages.length) worker.terminate();
  });
  for (const message of messages) worker.postMessage(message, [message.bytes.buffer]); // the bytes move, not copied
} else {
  parentPort.on("message", ({ kind, bytes }) => {
    const parsed = kind === "response" ? parseResponse(bytes) : parseRequest(bytes);
    if ("method" in parsed) parentPort.postMessage(`request: ${parsed.method} ${parsed.target}`);
    else if ("status" in parsed) parentPort.postMessage(`response: ${parsed.status} ${parsed.reason}`);
    else parentPort.postMessage(JSON.stringify(parsed));
  });
}
// → request: GET /from-a-worker
// → response: 404 Not Found
