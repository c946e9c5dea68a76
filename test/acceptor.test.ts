// The server's listening socket (server/acceptor.ts): what it opens it
// closes when the loop refuses to watch it; what it is handed stays the
// caller's.
import { suite, assert } from "./support/uvu.ts";
import { readdirSync } from "node:fs";
import { Acceptor } from "../src/server/acceptor.ts";
import { openListener } from "../src/socket/listener.ts";
import { EventLoop } from "../src/socket/loop.ts";
import { close } from "../src/socket/syscalls.ts";

const test = suite("acceptor");

const openDescriptors = (): number => readdirSync("/proc/self/fd").length;

/** A loop that refuses every descriptor, as epoll_ctl does when out of memory or watches. */
class RefusingLoop extends EventLoop {
  override add(): void {
    throw new Error("epoll_ctl: ENOSPC");
  }
}

test("a listener it opened is closed when the loop refuses it; one handed in is left to the caller", () => {
  const loop = new RefusingLoop();
  const acceptor = new Acceptor(loop, () => {}, () => {});
  try {
    const before = openDescriptors();
    assert.throws(() => acceptor.listen({ host: "127.0.0.1", port: 0 }), /ENOSPC/);
    assert.is(openDescriptors(), before, "no descriptor left open");
    const handed = openListener({ host: "127.0.0.1", port: 0 });
    assert.throws(() => acceptor.listen({}, handed), /ENOSPC/);
    assert.is(openDescriptors(), before + 1, "the caller's listener is still open");
    close(handed.fd);
  } finally {
    loop.close();
  }
});

test.run();
