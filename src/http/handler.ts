// What an application gives the server: a function called once per request,
// which answers through the response (now or later).
import type { Request } from "./request.js";
import type { Response } from "./response.js";

export type Handler = (req: Request, res: Response) => void | Promise<void>;
