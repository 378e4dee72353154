// Turns C++ exceptions (c10::Error from libtorch, std::exception) into JS Errors with the message,
// so a failure inside the engine never takes the Node process down.
#pragma once

#include <napi.h>
#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace siri {

// libtorch messages carry a long C++ backtrace after the first line; keep what a user can act on.
inline std::string ShortTorchMessage(const c10::Error& e) {
  std::string msg = e.what_without_backtrace();
  return msg;
}

// Wraps a Node-API callback body: any C++ exception becomes a thrown JS Error.
template <typename Fn>
Napi::Value GuardJs(const Napi::CallbackInfo& info, Fn&& body) {
  Napi::Env env = info.Env();
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, "siri native: " + ShortTorchMessage(e));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("siri native: ") + e.what());
  } catch (...) {
    throw Napi::Error::New(env, "siri native: unknown C++ exception");
  }
}

}  // namespace siri
