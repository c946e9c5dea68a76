// Worker threads: each thread that imports simplenet-parser gets its own
// instance (wasm memory is per thread). node worker.mjs
import { Worker, isMainThread, parentPort } from "node:worker_threads";
import { parseRequest } from "simplenet-parser";

if (isMainThread) {
  const worker = new Worker(new URL(import.meta.url));
  worker.on("message", (line) => {
    console.log(line);
    worker.terminate();
  });
  const request = new TextEncoder().encode("GET /from-a-worker HTTP/1.1\r\nHost: example.com\r\n\r\n");
  worker.postMessage(request, [request.buffer]); // transferred, not copied
} else {
  parentPort.on("message", (bytes) => {
    const request = parseRequest(bytes);
    parentPort.postMessage("method" in request ? `${request.method} ${request.target} keepAlive=${request.keepAlive}` : JSON.stringify(request));
  });
}
// → GET /from-a-worker keepAlive=true
