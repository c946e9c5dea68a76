// uWebSockets.js (its npm republish @trufflesuite/uws-js-unofficial, the
// binaries of v20.30.0) serving the routes every peer serves. The native
// addon is loaded directly, as in ws-uws.ts: the package's entry quietly
// falls back to a pure-JS server when the addon does not load, and that must
// never be measured as uWS.js. The static file is sent from a Buffer read
// once at start (uWS.js has no sendfile). With BENCH_WORKERS=N (the
// multi-core scenario), N worker threads each run an App listening on the
// same port: uSockets binds with SO_REUSEPORT, and the kernel spreads the
// connections across them.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { HOST, PAYLOAD, STATIC_PATH, WORKERS, cachedStatic, freePort, listening, note, peerRequire, unsupported } from "./common.js";

const PACKAGE = "@trufflesuite/uws-js-unofficial";
const binary = `${PACKAGE}/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;

/* eslint-disable @typescript-eslint/no-explicit-any */
function load(): any {
  try {
    return peerRequire(binary);
  } catch (error) {
    unsupported(`uWS.js's addon does not load here (${binary}: ${(error as Error).message.split("\n")[0]})`);
  }
}

/** One App with the routes, listening on `port` (0: the kernel picks); resolves with the port it got. */
function app(uws: any, port: number): Promise<number> {
  const file = cachedStatic();
  const json = (res: any) => res.writeHeader("Content-Type", "application/json; charset=utf-8").end(JSON.stringify(PAYLOAD));
  const a = uws.App()
    .get("/hi", (res: any) => res.writeHeader("Content-Type", "text/plain").end("Hi"))
    .get("/json", json)
    .post("/upload", (res: any) => {
      let length = 0;
      let aborted = false;
      res.onAborted(() => (aborted = true));
      res.onData((chunk: ArrayBuffer, isLast: boolean) => {
        length += chunk.byteLength;
        if (isLast && !aborted) res.cork(() => res.writeHeader("Content-Type", "text/plain").end(String(length)));
      });
    })
    .get(STATIC_PATH, (res: any) => res.writeHeader("Content-Type", "application/octet-stream").end(file))
    .any("/*", (res: any) => res.writeStatus("404 Not Found").end("Not Found\n"));
  return new Promise((resolve) => {
    a.listen(HOST, port, (token: unknown) => {
      if (!token) unsupported(`uWS.js could not listen on ${HOST}:${port}`);
      resolve(uws.us_socket_local_port(token));
    });
  });
}

if (!isMainThread) {
  await app(load(), (workerData as { port: number }).port);
  parentPort!.postMessage("listening");
} else {
  const uws = load();
  const version = (peerRequire(`${PACKAGE}/package.json`) as { version: string }).version;
  note(`uWS.js: ${PACKAGE} ${version}, native addon for Node ABI ${process.versions.modules}`);
  note("static-64k: uWS.js sends the file from a Buffer read once at start (it has no sendfile)");
  if (WORKERS <= 1) {
    listening(await app(uws, 0));
  } else {
    const port = await freePort();
    await Promise.all(Array.from({ length: WORKERS }, () => new Promise<void>((resolve, reject) => {
      // Node 20 does not pass `--import tsx` on to worker threads: tsx-worker.mjs registers it and runs BENCH_WORKER_ENTRY.
      const worker = new Worker(new URL("./tsx-worker.mjs", import.meta.url), { workerData: { port }, env: { ...process.env, BENCH_WORKER_ENTRY: import.meta.url } });
      worker.once("message", () => resolve());
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`a uWS.js worker exited with code ${code}`)));
    })));
    note(`uWS.js with workers: ${WORKERS} worker threads, one App each on the same port (SO_REUSEPORT)`);
    listening(port);
  }
}
