// Node-API entry point of the siri native engine: registers every exported function/class.
// Each export lives in its own file; this one only wires them into the module object.
#include <napi.h>

#include "engine_info.h"
#include "policy_napi.h"

namespace siri {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterEngineInfo(env, exports);
  RegisterPolicy(env, exports);
  return exports;
}

}  // namespace siri

static Napi::Object InitSiriNative(Napi::Env env, Napi::Object exports) { return siri::Init(env, exports); }

NODE_API_MODULE(siri_native, InitSiriNative)
