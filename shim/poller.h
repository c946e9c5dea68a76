// One uv_poll_t on an epoll descriptor, so every socket the server owns is
// watched by a single handle inside Node's own event loop.
#pragma once
#include <napi.h>
#include <uv.h>

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Poller(const Napi::CallbackInfo& info);
  ~Poller() override;

 private:
  struct Handle;  // outlives this object until uv_close's callback runs
  static void OnReadable(uv_poll_t* poll, int status, int events);
  void Drain();
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Stop();

  int epfd_ = -1;
  Handle* handle_ = nullptr;
  Napi::Reference<Napi::Int32Array> events_;
  Napi::FunctionReference callback_;
  Napi::AsyncContext* context_ = nullptr;
};
