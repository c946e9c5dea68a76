#include "syscalls.h"
#include "abi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <string>

namespace {

int32_t Int(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int32Value();
}

Napi::Number Result(Napi::Env env, long rc) {
  return Napi::Number::New(env, static_cast<double>(rc < 0 ? -errno : rc));
}

// Bytes of an ArrayBuffer or TypedArray argument, and their count. An
// ArrayBuffer is asked first: the hot reads and sends pass the wasm memory's
// own buffer, and one napi_get_arraybuffer_info costs a fraction of what a
// typed array's type, length, buffer and offset do. For a typed array, one
// napi_get_typedarray_info gives the data pointer with the view's offset
// applied, rather than node-addon-api's several calls.
bool Bytes(const Napi::Value& value, uint8_t** data, size_t* length) {
  napi_env env = value.Env();
  bool is;
  if (napi_is_arraybuffer(env, value, &is) == napi_ok && is) {
    void* at;
    if (napi_get_arraybuffer_info(env, value, &at, length) != napi_ok) return false;
    *data = static_cast<uint8_t*>(at);
    return true;
  }
  if (napi_is_typedarray(env, value, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t count;
    void* at;
    if (napi_get_typedarray_info(env, value, &type, &count, &at, nullptr, nullptr) != napi_ok) return false;
    size_t width = 1;
    switch (type) {
      case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: width = 1; break;
      case napi_int16_array: case napi_uint16_array: width = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: width = 4; break;
      default: width = 8; break;
    }
    *data = static_cast<uint8_t*>(at);
    *length = count * width;
    return true;
  }
  return false;
}

// A count, offset or length argument: a Number holding a whole number from 0
// to max, else false. Read as a double, not Int32Value, which wraps (2**32
// would pass as 0) and reads NaN as 0.
bool Size(const Napi::CallbackInfo& info, size_t i, size_t max, size_t* out) {
  if (!info[i].IsNumber()) return false;
  double value = info[i].As<Napi::Number>().DoubleValue();
  if (!(value >= 0 && value <= static_cast<double>(max)) || value != static_cast<double>(static_cast<size_t>(value))) return false;
  *out = static_cast<size_t>(value);
  return true;
}

// The span bytes[offset, offset + length) of arguments at, at+1, at+2, checked
// against the bytes' size.
bool Span(const Napi::CallbackInfo& info, size_t at, uint8_t** data, size_t* length) {
  size_t size;
  if (!Bytes(info[at], data, &size)) return false;
  size_t offset;
  if (!Size(info, at + 1, size, &offset) || !Size(info, at + 2, size - offset, length)) return false;
  *data += offset;
  return true;
}

// sendmsg with MSG_NOSIGNAL (a closed peer is EPIPE, not SIGPIPE), EINTR retried.
ssize_t SendMsg(int fd, const msghdr* msg) {
  ssize_t n;
  do {
    n = sendmsg(fd, msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

// Fills a sockaddr from (family, address, port); AF_UNIX takes a path.
socklen_t Address(int family, const std::string& address, int port, sockaddr_storage* out) {
  memset(out, 0, sizeof(*out));
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(out);
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, address.c_str(), &in->sin_addr) != 1) return 0;
    return sizeof(sockaddr_in);
  }
  if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) != 1) return 0;
    return sizeof(sockaddr_in6);
  }
  if (family == AF_UNIX) {
    // An abstract name (a leading NUL) is its bytes and no more: a NUL after
    // it would be part of the name. A path takes its terminating NUL.
    auto* un = reinterpret_cast<sockaddr_un*>(out);
    bool abstract = !address.empty() && address[0] == '\0';
    size_t size = address.size() + (abstract ? 0 : 1);
    if (size > sizeof(un->sun_path)) return 0;
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, address.data(), address.size());
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + size);
  }
  return 0;
}

// A Unix socket's name from the `len` bytes of address the kernel returned;
// the rest of sun_path is whatever the buffer held before. An unnamed socket
// has none (len covers the family alone); an abstract name starts with a NUL
// and is every byte up to len; a path ends at its NUL (counted in len or not).
std::string UnixName(const sockaddr_un& un, socklen_t len) {
  size_t at = offsetof(sockaddr_un, sun_path);
  if (len <= at) return std::string();
  size_t size = std::min(static_cast<size_t>(len) - at, sizeof(un.sun_path));
  if (un.sun_path[0] == '\0') return std::string(un.sun_path, size);
  return std::string(un.sun_path, strnlen(un.sun_path, size));
}

// [family, address, port] of a sockaddr of len bytes, as the kernel returned it.
Napi::Value Describe(Napi::Env env, const sockaddr_storage& addr, socklen_t len) {
  Napi::Array out = Napi::Array::New(env, 3);
  char ip[INET6_ADDRSTRLEN] = "";
  std::string text;
  int port = 0;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
    text = ip;
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
    text = ip;
    port = ntohs(in6->sin6_port);
  } else if (addr.ss_family == AF_UNIX) {
    text = UnixName(*reinterpret_cast<const sockaddr_un*>(&addr), len);
  }
  out.Set(0u, Napi::Number::New(env, addr.ss_family));
  out.Set(1u, Napi::String::New(env, text));
  out.Set(2u, Napi::Number::New(env, port));
  return out;
}

Napi::Value Socket(const Napi::CallbackInfo& info) {
  return Result(info.Env(), socket(Int(info, 0), Int(info, 1), Int(info, 2)));
}

// setsockopt(fd, level, name, intValue)
Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  int value = Int(info, 3);
  return Result(info.Env(), setsockopt(Int(info, 0), Int(info, 1), Int(info, 2), &value, sizeof(value)));
}

// bind(fd, family, address, port)
Napi::Value Bind(const Napi::CallbackInfo& info) {
  sockaddr_storage addr;
  socklen_t len = Address(Int(info, 1), info[2].As<Napi::String>().Utf8Value(), Int(info, 3), &addr);
  if (len == 0) return Napi::Number::New(info.Env(), -EINVAL);
  return Result(info.Env(), bind(Int(info, 0), reinterpret_cast<sockaddr*>(&addr), len));
}

// connect(fd, family, address, port)
Napi::Value Connect(const Napi::CallbackInfo& info) {
  sockaddr_storage addr;
  socklen_t len = Address(Int(info, 1), info[2].As<Napi::String>().Utf8Value(), Int(info, 3), &addr);
  if (len == 0) return Napi::Number::New(info.Env(), -EINVAL);
  int rc;
  do {
    rc = connect(Int(info, 0), reinterpret_cast<sockaddr*>(&addr), len);
  } while (rc < 0 && errno == EINTR);
  return Result(info.Env(), rc);
}

Napi::Value Listen(const Napi::CallbackInfo& info) {
  return Result(info.Env(), listen(Int(info, 0), Int(info, 1)));
}

// accept4(fd, flags) -> the new fd; the peer's address is not asked for.
Napi::Value Accept4(const Napi::CallbackInfo& info) {
  int fd;
  do {
    fd = accept4(Int(info, 0), nullptr, nullptr, Int(info, 1));
  } while (fd < 0 && errno == EINTR);
  return Result(info.Env(), fd);
}

// One of the two calls that name a socket's end: [family, address, port] or -errno.
static Napi::Value SocketName(const Napi::CallbackInfo& info, int (*call)(int, sockaddr*, socklen_t*)) {
  sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  if (call(Int(info, 0), reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    return Napi::Number::New(info.Env(), -errno);
  }
  return Describe(info.Env(), addr, len);
}

// getsockname(fd) -> [family, address, port] or -errno
Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  return SocketName(info, getsockname);
}

// getpeername(fd) -> [family, address, port] or -errno
Napi::Value GetPeerName(const Napi::CallbackInfo& info) {
  return SocketName(info, getpeername);
}

// read(fd, bytes, offset, length): reads into bytes[offset, offset + length).
Napi::Value Read(const Napi::CallbackInfo& info) {
  uint8_t* data;
  size_t length;
  if (!Span(info, 1, &data, &length)) return Napi::Number::New(info.Env(), -EFAULT);
  ssize_t n;
  do {
    n = read(Int(info, 0), data, length);
  } while (n < 0 && errno == EINTR);
  return Result(info.Env(), n);
}

// writev(fd, [bytes, ...]): sendmsg with MSG_NOSIGNAL, so a closed peer is
// EPIPE rather than SIGPIPE.
Napi::Value Writev(const Napi::CallbackInfo& info) {
  Napi::Array list = info[1].As<Napi::Array>();
  uint32_t count = list.Length();
  if (count > SIMPLENET_MAX_IOVECS) count = SIMPLENET_MAX_IOVECS;
  iovec iov[SIMPLENET_MAX_IOVECS];
  for (uint32_t i = 0; i < count; i++) {
    uint8_t* data;
    size_t size;
    if (!Bytes(list.Get(i), &data, &size)) return Napi::Number::New(info.Env(), -EFAULT);
    iov[i].iov_base = data;
    iov[i].iov_len = size;
  }
  msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  return Result(info.Env(), SendMsg(Int(info, 0), &msg));
}

// send(fd, bytes, offset, length): one span, with MSG_NOSIGNAL.
Napi::Value Send(const Napi::CallbackInfo& info) {
  uint8_t* data;
  size_t length;
  if (!Span(info, 1, &data, &length)) return Napi::Number::New(info.Env(), -EFAULT);
  ssize_t n;
  do {
    n = send(Int(info, 0), data, length, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return Result(info.Env(), n);
}

// sendfile(outFd, inFd, offset, count) -> bytes sent
Napi::Value SendFile(const Napi::CallbackInfo& info) {
  off_t offset = static_cast<off_t>(info[2].As<Napi::Number>().Int64Value());
  size_t count = static_cast<size_t>(info[3].As<Napi::Number>().Int64Value());
  ssize_t n;
  do {
    n = sendfile(Int(info, 0), Int(info, 1), &offset, count);
  } while (n < 0 && errno == EINTR);
  return Result(info.Env(), n);
}

// sendto(fd, data, length, MSG_NOSIGNAL | MSG_DONTWAIT) -> bytes taken or
// -errno, EINTR retried; syscall() rather than glibc's send(), a cancellation
// point (as in region.cc). send_each makes one per member of a turn's
// publish batch, so its cost is shared by every publish of that turn.
long SendTo(int fd, const void* data, size_t length) {
  long n;
  do {
    n = syscall(SYS_sendto, fd, data, length, MSG_NOSIGNAL | MSG_DONTWAIT, nullptr, 0);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

// send_each(fds, count, bytes, offset, length, results): the same span
// bytes[offset, offset + length) sent to each of the first `count`
// descriptors of the Int32Array fds (with MSG_NOSIGNAL and MSG_DONTWAIT),
// what each send returned (bytes taken, or -errno) written to the Int32Array
// results at the same index: one crossing for a publish to many sockets.
// A negative descriptor is skipped with -EBADF. -> how many took every byte,
// or -EINVAL (count beyond either array) / -EFAULT (the span outside bytes)
// with nothing sent.
Napi::Value SendEach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      !info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    return Napi::Number::New(env, -EINVAL);
  }
  Napi::Int32Array fds = info[0].As<Napi::Int32Array>();
  Napi::Int32Array results = info[5].As<Napi::Int32Array>();
  size_t count;
  if (!Size(info, 1, std::min(fds.ElementLength(), results.ElementLength()), &count)) return Napi::Number::New(env, -EINVAL);
  uint8_t* data;
  size_t length;
  if (!Span(info, 2, &data, &length)) return Napi::Number::New(env, -EFAULT);
  const int32_t* fd = fds.Data();
  int32_t* out = results.Data();
  int32_t whole = 0;
  for (size_t i = 0; i < count; i++) {
    long n = fd[i] < 0 ? -EBADF : SendTo(fd[i], data, length);
    out[i] = static_cast<int32_t>(n);
    if (static_cast<size_t>(n) == length) whole++;
  }
  return Napi::Number::New(env, whole);
}

// fcntl(fd, cmd, intArg)
Napi::Value Fcntl(const Napi::CallbackInfo& info) {
  return Result(info.Env(), fcntl(Int(info, 0), Int(info, 1), Int(info, 2)));
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  return Result(info.Env(), shutdown(Int(info, 0), Int(info, 1)));
}

// close(fd): not retried on EINTR, since on Linux the descriptor is gone either way.
Napi::Value Close(const Napi::CallbackInfo& info) {
  return Result(info.Env(), close(Int(info, 0)));
}

Napi::Value EpollCreate1(const Napi::CallbackInfo& info) {
  return Result(info.Env(), epoll_create1(Int(info, 0)));
}

// epoll_ctl(epfd, op, fd, events): the event's data is the fd itself.
Napi::Value EpollCtl(const Napi::CallbackInfo& info) {
  epoll_event event = {};
  event.events = static_cast<uint32_t>(info[3].As<Napi::Number>().Uint32Value());
  event.data.fd = Int(info, 2);
  return Result(info.Env(), epoll_ctl(Int(info, 0), Int(info, 1), Int(info, 2), &event));
}

// malloc_trim(0): gives the free pages of the C heap back to the kernel.
// glibc keeps what V8's compiler and Node free in its arenas, and returns
// only a free top of the heap on its own. -> 1 if memory was released, 0 if
// not or where the C library has no malloc_trim.
Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
#ifdef __GLIBC__
  return Napi::Number::New(info.Env(), malloc_trim(0));
#else
  return Napi::Number::New(info.Env(), 0);
#endif
}

// Descriptors one send_fds/recv_fds call carries at most.
constexpr uint32_t kMaxFds = 16;

// send_fds(fd, bytes, [fd, ...]): sendmsg of bytes (at least one) with the
// descriptors as SCM_RIGHTS ancillary data, over an AF_UNIX socket, with
// MSG_NOSIGNAL. -> bytes sent
Napi::Value SendFds(const Napi::CallbackInfo& info) {
  uint8_t* data;
  size_t size;
  if (!Bytes(info[1], &data, &size) || size == 0) return Napi::Number::New(info.Env(), -EFAULT);
  Napi::Array list = info[2].As<Napi::Array>();
  uint32_t count = list.Length();
  if (count > kMaxFds) return Napi::Number::New(info.Env(), -EINVAL);
  iovec iov = {data, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (count > 0) {
    memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    cmsghdr* header = CMSG_FIRSTHDR(&msg);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * count);
    int* fds = reinterpret_cast<int*>(CMSG_DATA(header));
    for (uint32_t i = 0; i < count; i++) fds[i] = list.Get(i).As<Napi::Number>().Int32Value();
  }
  return Result(info.Env(), SendMsg(Int(info, 0), &msg));
}

// recv_fds(fd, bytes, offset, length, fds): recvmsg into bytes[offset,
// offset + length); the descriptors that came with them (SCM_RIGHTS, made
// close-on-exec) fill the Int32Array fds in order, the rest of it is set to
// -1. Descriptors beyond its length (at most 16) are closed by the kernel.
// -> bytes read
Napi::Value RecvFds(const Napi::CallbackInfo& info) {
  uint8_t* data;
  size_t length;
  if (!Span(info, 1, &data, &length)) return Napi::Number::New(info.Env(), -EFAULT);
  if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    return Napi::Number::New(info.Env(), -EFAULT);
  }
  Napi::Int32Array out = info[4].As<Napi::Int32Array>();
  size_t capacity = out.ElementLength() < kMaxFds ? out.ElementLength() : kMaxFds;
  for (size_t i = 0; i < out.ElementLength(); i++) out[i] = -1;
  iovec iov = {data, length};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = capacity > 0 ? CMSG_SPACE(sizeof(int) * capacity) : 0;
  if (capacity == 0) msg.msg_control = nullptr;
  ssize_t n;
  do {
    n = recvmsg(Int(info, 0), &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Result(info.Env(), n);
  size_t filled = 0;
  for (cmsghdr* header = CMSG_FIRSTHDR(&msg); header != nullptr; header = CMSG_NXTHDR(&msg, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* fds = reinterpret_cast<const int*>(CMSG_DATA(header));
    for (size_t i = 0; i < count; i++) {
      if (filled < capacity) out[filled++] = fds[i];
      else close(fds[i]);
    }
  }
  return Result(info.Env(), n);
}

}  // namespace

void DefineSyscalls(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New<Socket>(env, "socket"));
  exports.Set("setsockopt", Napi::Function::New<SetSockOpt>(env, "setsockopt"));
  exports.Set("bind", Napi::Function::New<Bind>(env, "bind"));
  exports.Set("connect", Napi::Function::New<Connect>(env, "connect"));
  exports.Set("listen", Napi::Function::New<Listen>(env, "listen"));
  exports.Set("accept4", Napi::Function::New<Accept4>(env, "accept4"));
  exports.Set("getsockname", Napi::Function::New<GetSockName>(env, "getsockname"));
  exports.Set("getpeername", Napi::Function::New<GetPeerName>(env, "getpeername"));
  exports.Set("read", Napi::Function::New<Read>(env, "read"));
  exports.Set("send", Napi::Function::New<Send>(env, "send"));
  exports.Set("writev", Napi::Function::New<Writev>(env, "writev"));
  exports.Set("sendfile", Napi::Function::New<SendFile>(env, "sendfile"));
  exports.Set("send_each", Napi::Function::New<SendEach>(env, "send_each"));
  exports.Set("fcntl", Napi::Function::New<Fcntl>(env, "fcntl"));
  exports.Set("shutdown", Napi::Function::New<Shutdown>(env, "shutdown"));
  exports.Set("close", Napi::Function::New<Close>(env, "close"));
  exports.Set("epoll_create1", Napi::Function::New<EpollCreate1>(env, "epoll_create1"));
  exports.Set("epoll_ctl", Napi::Function::New<EpollCtl>(env, "epoll_ctl"));
  exports.Set("malloc_trim", Napi::Function::New<MallocTrim>(env, "malloc_trim"));
  exports.Set("send_fds", Napi::Function::New<SendFds>(env, "send_fds"));
  exports.Set("recv_fds", Napi::Function::New<RecvFds>(env, "recv_fds"));

  Napi::Object c = Napi::Object::New(env);
  auto set = [&](const char* name, uint32_t value) { c.Set(name, Napi::Number::New(env, value)); };
  set("AF_INET", AF_INET);
  set("AF_INET6", AF_INET6);
  set("AF_UNIX", AF_UNIX);
  set("SOCK_STREAM", SOCK_STREAM);
  set("SOCK_NONBLOCK", SOCK_NONBLOCK);
  set("SOCK_CLOEXEC", SOCK_CLOEXEC);
  set("SOL_SOCKET", SOL_SOCKET);
  set("SO_REUSEADDR", SO_REUSEADDR);
  set("SO_REUSEPORT", SO_REUSEPORT);
  set("IPPROTO_TCP", IPPROTO_TCP);
  set("IPPROTO_IPV6", IPPROTO_IPV6);
  set("TCP_NODELAY", TCP_NODELAY);
  set("IPV6_V6ONLY", IPV6_V6ONLY);
  set("SHUT_RD", SHUT_RD);
  set("SHUT_WR", SHUT_WR);
  set("SHUT_RDWR", SHUT_RDWR);
  set("F_GETFL", F_GETFL);
  set("F_SETFL", F_SETFL);
  set("F_GETFD", F_GETFD);
  set("F_SETFD", F_SETFD);
  set("FD_CLOEXEC", FD_CLOEXEC);
  set("O_NONBLOCK", O_NONBLOCK);
  set("EPOLL_CLOEXEC", EPOLL_CLOEXEC);
  set("EPOLL_CTL_ADD", EPOLL_CTL_ADD);
  set("EPOLL_CTL_MOD", EPOLL_CTL_MOD);
  set("EPOLL_CTL_DEL", EPOLL_CTL_DEL);
  set("EPOLLIN", EPOLLIN);
  set("EPOLLOUT", EPOLLOUT);
  set("EPOLLERR", EPOLLERR);
  set("EPOLLHUP", EPOLLHUP);
  set("EPOLLRDHUP", EPOLLRDHUP);
  set("EPOLLET", EPOLLET);
  exports.Set("constants", c);
}
