// The node:http handler of the node:http rows: the routes every row serves,
// written against node:http's (req, res) alone. node-http.ts serves it on
// node:http, node-http-simplenet.ts on simplenet's node:http face.
import type { IncomingMessage, ServerResponse } from "node:http";
import { PAYLOAD, STATIC_PATH, cachedStatic, note } from "./common.js";

const file = cachedStatic();
note("static-64k: node:http sends the file from a Buffer read once at start");

export async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? "/";
  if (url === "/hi") {
    res.setHeader("Content-Type", "text/plain");
    return void res.end("Hi");
  }
  if (url === "/json") {
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    return void res.end(JSON.stringify(PAYLOAD));
  }
  if (url === "/upload" && req.method === "POST") {
    let length = 0;
    for await (const chunk of req) length += (chunk as Buffer).length;
    res.setHeader("Content-Type", "text/plain");
    return void res.end(String(length));
  }
  if (url === STATIC_PATH) {
    res.setHeader("Content-Type", "application/octet-stream");
    return void res.end(file);
  }
  res.statusCode = 404;
  res.end("Not Found\n");
}
