// The shim: Linux socket system calls and one epoll poller for Node. It knows
// nothing of HTTP.
#include <napi.h>

#include "poller.h"
#include "region.h"
#include "syscalls.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  DefineSyscalls(env, exports);
  DefineRegion(env, exports);
  exports.Set("Poller", Poller::Define(env));
  return exports;
}

NODE_API_MODULE(simplenet, Init)
