// Registers the Node-API surface of the policy (loadPolicy, initPolicy, NativePolicy) on the addon's exports.
#pragma once

#include <napi.h>

namespace siri {
void RegisterPolicy(Napi::Env env, Napi::Object exports);
}  // namespace siri
