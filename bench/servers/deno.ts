// Deno.serve serving the routes every peer serves; run by bench/http.ts with
// bench/.peers' deno binary (`deno run --no-remote ...`, see denoCommand()
// there), not Node. The static file is sent from bytes read once at start.
import { HOST, PAYLOAD, STATIC_PATH, cachedStatic, listening, note } from "./common.js";

declare const Deno: {
  version: { deno: string };
  serve(options: { hostname: string; port: number; onListen(addr: { port: number }): void }, handler: (req: Request) => Response | Promise<Response>): unknown;
};

note(`Deno.serve: deno ${Deno.version.deno}`);
note("static-64k: Deno.serve sends the file from bytes read once at start");

const file = new Uint8Array(cachedStatic());
const TEXT = { "Content-Type": "text/plain" };
const JSON_TYPE = { "Content-Type": "application/json; charset=utf-8" };
const OCTETS = { "Content-Type": "application/octet-stream" };

Deno.serve({ hostname: HOST, port: 0, onListen: ({ port }) => listening(port) }, async (req) => {
  // req.url is absolute: the path starts at the first "/" after "http://".
  const url = req.url;
  const path = url.slice(url.indexOf("/", 8));
  if (path === "/hi") return new Response("Hi", { headers: TEXT });
  if (path === "/json") return new Response(JSON.stringify(PAYLOAD), { headers: JSON_TYPE });
  if (path === "/upload" && req.method === "POST") return new Response(String((await req.arrayBuffer()).byteLength), { headers: TEXT });
  if (path === STATIC_PATH) return new Response(file, { headers: OCTETS });
  return new Response("Not Found\n", { status: 404 });
});
