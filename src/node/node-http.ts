// The one file of src/ that imports node:http, as DESIGN.md allows the
// node:http face: the classes apps expect req and res to be
// (IncomingMessage, ServerResponse), and nothing else of it — never its
// sockets, its parser or its module object: the bytes go through simplenet.
// (Making node:http's createServer simplenet's is the register hook's job,
// which lives outside the server: register/index.js.)
import { IncomingMessage, ServerResponse } from "node:http";

export { IncomingMessage, ServerResponse };
