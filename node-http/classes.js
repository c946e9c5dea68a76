// The classes node:http apps expect req and res to be, for simplenet's
// node:http face (src/node/). It lives outside src/ on purpose, as the
// register hook does: the server imports no networking module of Node, and
// of node:http the face takes these two classes only — never its sockets,
// its parser or its module object; the bytes go through simplenet's shim.
export { IncomingMessage, ServerResponse } from "node:http";
