#pragma once
#include <napi.h>

// read(2) into and send(2) from one ArrayBuffer (the wasm parser's fixed
// memory) through functions that take no arguments: the hot path's two
// crossings per request without N-API's argument conversions; and latin1()
// of a span of it, the head's string.
void DefineRegion(Napi::Env env, Napi::Object exports);
