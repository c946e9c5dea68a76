#include "poller.h"

#include <errno.h>
#include <sys/epoll.h>

struct Poller::Handle {
  uv_poll_t poll;
  Poller* owner;
};

Napi::Function Poller::Define(Napi::Env env) {
  return DefineClass(env, "Poller", {InstanceMethod<&Poller::Close>("close")});
}

// new Poller(epfd, events: Int32Array, callback(count))
// When epfd is readable, epoll_wait(epfd, .., 0) fills `events` with
// (fd, events) pairs and callback receives the pair count.
Poller::Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsFunction()) {
    Napi::TypeError::New(env, "Poller(epfd, Int32Array, callback)").ThrowAsJavaScriptException();
    return;
  }
  Napi::TypedArray array = info[1].As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_int32_array || array.ElementLength() < 2) {
    Napi::TypeError::New(env, "events must be an Int32Array of at least 2").ThrowAsJavaScriptException();
    return;
  }
  epfd_ = info[0].As<Napi::Number>().Int32Value();
  events_ = Napi::Persistent(info[1].As<Napi::Int32Array>());
  callback_ = Napi::Persistent(info[2].As<Napi::Function>());
  context_ = new Napi::AsyncContext(env, "simplenet:poller");

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    Napi::Error::New(env, "no uv loop").ThrowAsJavaScriptException();
    return;
  }
  handle_ = new Handle{{}, this};
  int rc = uv_poll_init(loop, &handle_->poll, epfd_);
  if (rc == 0) rc = uv_poll_start(&handle_->poll, UV_READABLE, OnReadable);
  if (rc != 0) {
    delete handle_;
    handle_ = nullptr;
    Napi::Error::New(env, uv_strerror(rc)).ThrowAsJavaScriptException();
  }
}

Poller::~Poller() {
  Stop();
  delete context_;
}

void Poller::OnReadable(uv_poll_t* poll, int status, int) {
  Poller* self = reinterpret_cast<Handle*>(poll)->owner;
  if (self != nullptr && status == 0) self->Drain();
}

void Poller::Drain() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Napi::Int32Array array = events_.Value();
  int capacity = static_cast<int>(array.ElementLength() / 2);
  epoll_event ready[1024];
  if (capacity > 1024) capacity = 1024;
  int n;
  do {
    n = epoll_wait(epfd_, ready, capacity, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return;
  int32_t* out = array.Data();
  for (int i = 0; i < n; i++) {
    out[2 * i] = ready[i].data.fd;
    out[2 * i + 1] = static_cast<int32_t>(ready[i].events);
  }
  // MakeCallback runs queued microtasks and nextTicks afterwards, like any I/O callback of Node.
  callback_.MakeCallback(Value(), {Napi::Number::New(env, n)}, *context_);
  if (env.IsExceptionPending()) {
    Napi::Error error = env.GetAndClearPendingException();
    napi_fatal_exception(env, error.Value());
  }
}

Napi::Value Poller::Close(const Napi::CallbackInfo& info) {
  Stop();
  return info.Env().Undefined();
}

// uv_close is asynchronous: the handle is freed in its close callback, after
// the loop is done with it, never while a callback could still reach it.
void Poller::Stop() {
  if (handle_ == nullptr) return;
  handle_->owner = nullptr;
  uv_poll_stop(&handle_->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->poll),
           [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
  handle_ = nullptr;
  callback_.Reset();
}
