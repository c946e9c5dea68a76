// region_io(buffer: ArrayBuffer, args: Int32Array) -> { read(), send(), latin1() }
//
// Every request crosses from JavaScript into the shim twice: read() of the
// request into the parser's memory, send() of the response from it. The
// general read/send (syscalls.cc) convert four arguments each way through
// N-API, which callgrind puts at ~700 instructions a call. These two take
// none: the caller writes (fd, offset, length) into `args` first, and the
// buffer's pointer was taken once, here. Each returns what the system call
// returned, or -errno, as the general ones do.
//
// The pointers stay valid because the buffer is a wasm memory whose size is
// fixed (initial = maximum: it never grows, so it never moves or detaches),
// `args` views an ArrayBuffer of its own (never on V8's moving heap), and the
// caller keeps both alive as long as it keeps the functions (syscalls.ts
// holds all four in one object). The functions hold no reference to them:
// one would keep a server's memory alive for as long as the thread lives.
#include "region.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

struct Region {
  uint8_t* data;
  size_t size;
  const int32_t* args;  // fd, offset, length
};

// The span args describe, checked against the buffer's size.
bool Span(const Region* region, int* fd, uint8_t** at, size_t* length) {
  int32_t offset = region->args[1];
  int32_t count = region->args[2];
  if (offset < 0 || count < 0 || static_cast<size_t>(offset) > region->size ||
      static_cast<size_t>(count) > region->size - static_cast<size_t>(offset)) {
    return false;
  }
  *fd = region->args[0];
  *at = region->data + offset;
  *length = static_cast<size_t>(count);
  return true;
}

const Region* RegionOf(napi_env env, napi_callback_info info) {
  void* data = nullptr;
  napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data);
  return static_cast<const Region*>(data);
}

napi_value Int(napi_env env, int32_t n) {
  napi_value value;
  napi_create_int32(env, n, &value);
  return value;
}

napi_value Result(napi_env env, long rc) {
  return Int(env, rc < 0 ? -errno : static_cast<int32_t>(rc));
}

// syscall() rather than glibc's read() and send(): those are cancellation
// points, which cost two more calls each (no thread of Node is ever cancelled).
napi_value Read(napi_env env, napi_callback_info info) {
  int fd;
  uint8_t* at;
  size_t length;
  if (!Span(RegionOf(env, info), &fd, &at, &length)) return Int(env, -EFAULT);
  long n;
  do {
    n = syscall(SYS_read, fd, at, length);
  } while (n < 0 && errno == EINTR);
  return Result(env, n);
}

// With MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE.
napi_value Send(napi_env env, napi_callback_info info) {
  int fd;
  uint8_t* at;
  size_t length;
  if (!Span(RegionOf(env, info), &fd, &at, &length)) return Int(env, -EFAULT);
  long n;
  do {
    n = syscall(SYS_sendto, fd, at, length, MSG_NOSIGNAL, nullptr, 0);
  } while (n < 0 && errno == EINTR);
  return Result(env, n);
}

// The span as a string of one character per byte: a request's head, made
// from the memory the parser read it into, with no view or argument to
// convert (Buffer's latin1Slice takes both: ~250 instructions more a request).
napi_value Latin1(napi_env env, napi_callback_info info) {
  int fd;
  uint8_t* at;
  size_t length;
  if (!Span(RegionOf(env, info), &fd, &at, &length)) {
    napi_throw_range_error(env, nullptr, "latin1: the span is outside the region");
    return nullptr;
  }
  napi_value text;
  if (napi_create_string_latin1(env, reinterpret_cast<const char*>(at), length, &text) != napi_ok) return nullptr;
  return text;
}

void Free(napi_env, void* data, void*) {
  delete static_cast<Region*>(data);
}

// A function of no arguments calling `cb` with its own copy of `region`.
Napi::Function Bind(Napi::Env env, const char* name, napi_callback cb, const Region& region) {
  Region* own = new Region(region);
  napi_value fn;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, own, &fn) != napi_ok ||
      napi_add_finalizer(env, fn, own, Free, nullptr, nullptr) != napi_ok) {
    delete own;
    NAPI_THROW(Napi::Error::New(env, "region_io: cannot make its functions"), Napi::Function());
  }
  return Napi::Function(env, fn);
}

Napi::Value RegionIo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArrayBuffer() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[1].As<Napi::TypedArray>().ElementLength() < 3) {
    NAPI_THROW(Napi::TypeError::New(env, "region_io(ArrayBuffer, Int32Array of at least 3)"), Napi::Value());
  }
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  Napi::Int32Array args = info[1].As<Napi::Int32Array>();
  Region region{static_cast<uint8_t*>(buffer.Data()), buffer.ByteLength(), args.Data()};
  Napi::Object out = Napi::Object::New(env);
  out.Set("read", Bind(env, "read", Read, region));
  if (env.IsExceptionPending()) return Napi::Value();
  out.Set("send", Bind(env, "send", Send, region));
  if (env.IsExceptionPending()) return Napi::Value();
  out.Set("latin1", Bind(env, "latin1", Latin1, region));
  return out;
}

}  // namespace

void DefineRegion(Napi::Env env, Napi::Object exports) {
  exports.Set("region_io", Napi::Function::New<RegionIo>(env, "region_io"));
}
