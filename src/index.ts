export { serve, Server } from "./server.js";
export type { Handler, Limits, ServeOptions, Timeouts } from "./server.js";
export { Request } from "./request.js";
export { Response } from "./response.js";
export type { Body, HeaderValue } from "./response.js";
export { Fields } from "./fields.js";
export { SyscallError } from "./syscalls.js";
