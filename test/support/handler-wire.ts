// The two servers handler programs run on (test/support/handler-programs.ts)
// — simplenet and node:http, one of each for a whole run, on 127.0.0.1 with
// kernel-picked ports — and the client that plays a conversation on a raw
// socket: it sends the requests (pipelined, or each once the one before is
// answered, as llhttp in response mode reads the bytes so far), then a probe
// request once all are answered, and keeps every byte it receives. The probe
// answered means the connection stayed usable.
import { createServer, type Server as NodeServer } from "node:http";
import { connect } from "node:net";
import { serve, type Server } from "../../src/index.ts";
import { LlhttpResponses } from "./llhttp.ts";
import { PROBE, nodeHandler, requestBytes, simplenetHandler, type Conversation, type Program, type Seen } from "./handler-programs.ts";

/** What one connection received. */
export interface Transcript {
  bytes: Buffer;
  /** The server closed the connection (or reset it). */
  closed: boolean;
  /** Neither all answers nor a close came within the time allowed. */
  hung: boolean;
  /** The method of each request sent, the probe's last. */
  methods: string[];
}

/** How long a conversation may take before it counts as hung. */
const HANG_MS = 3000;

const llhttp = new LlhttpResponses();

/** Plays the conversation on a new connection to `port`. */
export function converse(port: number, c: Conversation): Promise<Transcript> {
  const requests = [...c.requests.map(requestBytes), PROBE];
  const methods = [...c.requests.map((r) => r.method), "GET"];
  const socket = connect({ port, host: "127.0.0.1" });
  const chunks: Buffer[] = [];
  let sent = 0;
  const send = (upTo: number) => {
    socket.write(requests.slice(sent, upTo).join(""));
    sent = upTo;
  };
  send(c.pipelined ? c.requests.length : 1);
  return new Promise((resolve) => {
    let done = false;
    const finish = (closed: boolean, hung: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), closed, hung, methods });
    };
    const timer = setTimeout(() => finish(false, true), HANG_MS);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      const run = llhttp.parse(Buffer.concat(chunks), methods);
      if (run.error !== null) return finish(false, false); // broken: what follows is not comparable
      const answered = run.messages.length;
      if (answered === requests.length) return finish(false, false);
      if (answered === sent) send(sent + 1);
    });
    socket.on("end", () => finish(true, false));
    socket.on("close", () => finish(true, false));
    socket.on("error", () => finish(true, false));
  });
}

/** One simplenet server and one node:http server, serving the programs registered with them. */
export class HandlerServers {
  /** Errors simplenet reported to onError (the programs' throws among them). */
  reported = 0;

  private constructor(
    private readonly simplenet: Server, private readonly node: NodeServer,
    readonly programs: Map<number, Program>, readonly seen: { simplenet: Seen; node: Seen },
  ) {}

  static async start(): Promise<HandlerServers> {
    const programs = new Map<number, Program>();
    const seen = { simplenet: new Map() as Seen, node: new Map() as Seen };
    let servers: HandlerServers | null = null;
    const simplenet = await serve({
      port: 0, host: "127.0.0.1", handler: simplenetHandler(programs, seen.simplenet), onError: () => void (servers!.reported++),
    });
    const node = createServer(nodeHandler(programs, seen.node));
    await new Promise<void>((resolve) => node.listen(0, "127.0.0.1", resolve));
    return (servers = new HandlerServers(simplenet, node, programs, seen));
  }

  /**
   * Plays the conversation on both servers at once. One that hung on either
   * is played once more, and that play stands: a program hangs every time,
   * a machine too busy to answer within HANG_MS only now and then.
   */
  async converse(c: Conversation): Promise<{ ours: Transcript; theirs: Transcript }> {
    for (const r of c.requests) this.programs.set(r.program.id, r.program);
    const play = () => Promise.all([converse(this.simplenet.port, c), converse((this.node.address() as { port: number }).port, c)]);
    let [ours, theirs] = await play();
    if (ours.hung || theirs.hung) {
      this.forget(c);
      [ours, theirs] = await play();
    }
    for (const r of c.requests) this.programs.delete(r.program.id);
    return { ours, theirs };
  }

  /** Forgets what the conversation's handlers saw. */
  forget(c: Conversation): void {
    for (const r of c.requests) {
      this.seen.simplenet.delete(r.program.id);
      this.seen.node.delete(r.program.id);
    }
  }

  async close(): Promise<void> {
    this.node.closeAllConnections();
    await Promise.all([this.simplenet.close(), new Promise((resolve) => this.node.close(resolve))]);
  }
}
