// A minimal safetensors reader for the unit driver (F32/I64/BF16 tensors and the __metadata__ strings),
// with the small JSON parser the header needs. Test-only: the engine has its own safetensors IO.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace siri::testing {

// A parsed JSON value (enough of JSON for safetensors headers and our metadata).
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  const Json& at(const std::string& key) const;
  static Json Parse(const std::string& text);
};

struct SafetensorsFile {
  std::map<std::string, at::Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Throws std::runtime_error naming the file and the problem.
SafetensorsFile ReadSafetensors(const std::string& path);

}  // namespace siri::testing
