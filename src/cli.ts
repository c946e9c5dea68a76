#!/usr/bin/env node
// The simplenet command: the article's /hi server by default.
import { parseArgs } from "node:util";
import { serve, type Handler } from "./index.js";

const usage = `Usage: simplenet [--port 8081] [--host ADDR]

Serves GET /hi -> "Hi" (and 404 for anything else), like the article
"How to write a Golang HTTP server with Linux system calls".

Options:
  -p, --port N      port to listen on (default 8081; 0 lets the kernel pick)
  -H, --host ADDR   address to bind (default 0.0.0.0)
  -h, --help        show this help
`;

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string", short: "p", default: "8081" },
        host: { type: "string", short: "H", default: "0.0.0.0" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`invalid port: ${values.port}\n`);
    process.exit(2);
  }

  const hi: Handler = (req, res) => {
    if (req.path === "/hi" && (req.method === "GET" || req.method === "HEAD")) {
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      res.end("Hi");
      return;
    }
    res.status = 404;
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.end("Not Found\n");
  };

  serve({ port, host: values.host, handler: hi }).then(
    (server) => {
      const stop = (): void => {
        server.close().then(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const host = server.host.includes(":") ? `[${server.host}]` : server.host;
      process.stdout.write(`simplenet listening on http://${host}:${server.port}/\n`);
    },
    (error: Error & { code?: string }) => {
      process.stderr.write(`simplenet: cannot listen on ${values.host}:${port}: ${error.code ?? error.message}\n`);
      process.exit(1);
    },
  );
}

main();
