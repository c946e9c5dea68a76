// Bun.serve serving the routes every peer serves; run by bench/http.ts with
// bench/.peers' bun binary (`bun --no-install bench/servers/bun.ts`), not Node.
// The static file goes out as Bun.file(), which Bun sends with sendfile.
import { HOST, KEEP_ALIVE_MS, PAYLOAD, STATIC_FILE, STATIC_PATH, listening, note } from "./common.js";

declare const Bun: {
  version: string;
  file(path: string): Blob;
  serve(options: { hostname: string; port: number; idleTimeout: number; fetch(req: Request): Response | Promise<Response> }): { port: number };
};

note(`Bun.serve: bun ${Bun.version} (the baseline x64 build)`);
note("static-64k: Bun.serve sends Bun.file() (sendfile) on every request");

const TEXT = { "Content-Type": "text/plain" };
const JSON_TYPE = { "Content-Type": "application/json; charset=utf-8" };
const OCTETS = { "Content-Type": "application/octet-stream" };

const server = Bun.serve({
  hostname: HOST,
  port: 0,
  idleTimeout: Math.ceil(KEEP_ALIVE_MS / 1000),
  async fetch(req) {
    // req.url is absolute: the path starts at the first "/" after "http://".
    const url = req.url;
    const path = url.slice(url.indexOf("/", 8));
    if (path === "/hi") return new Response("Hi", { headers: TEXT });
    if (path === "/json") return new Response(JSON.stringify(PAYLOAD), { headers: JSON_TYPE });
    if (path === "/upload" && req.method === "POST") return new Response(String((await req.arrayBuffer()).byteLength), { headers: TEXT });
    if (path === STATIC_PATH) return new Response(Bun.file(STATIC_FILE), { headers: OCTETS });
    return new Response("Not Found\n", { status: 404 });
  },
});
listening(server.port);
