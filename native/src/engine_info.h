// engineInfo(): what the native engine was built with and what it can see (torch version, CUDA, threads).
#pragma once

#include <napi.h>

namespace siri {
void RegisterEngineInfo(Napi::Env env, Napi::Object exports);
}  // namespace siri
