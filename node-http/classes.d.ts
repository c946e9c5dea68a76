export { IncomingMessage, ServerResponse } from "node:http";
