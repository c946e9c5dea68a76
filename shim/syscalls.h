#pragma once
#include <napi.h>

// One thin function per system call. Each returns the call's result, or
// -errno on failure; deciding what a failure means is the caller's job.
void DefineSyscalls(Napi::Env env, Napi::Object exports);
