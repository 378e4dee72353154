// Safetensors reader and writer (the Hugging Face weight format): one file, or a sharded set described by
// model.safetensors.index.json. Tensors come back on the CPU in their on-disk dtype; every malformed
// header, out-of-range byte span or missing tensor is a std::invalid_argument naming the file.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace siri {

struct SafetensorsEntry {
  std::string file;  // absolute/relative path of the .safetensors file holding it
  at::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // absolute byte offsets in the file (header already skipped)
  uint64_t end = 0;
};

class SafetensorsReader {
 public:
  // A directory with model.safetensors.index.json (sharded) or model.safetensors (single file).
  static SafetensorsReader OpenDir(const std::string& dir, const std::string& stem = "model");
  // One .safetensors file.
  static SafetensorsReader OpenFile(const std::string& path);

  bool Has(const std::string& name) const { return entries_.count(name) > 0; }
  const SafetensorsEntry& Entry(const std::string& name) const;
  std::vector<std::string> Names() const;
  const std::map<std::string, std::string>& Metadata() const { return metadata_; }
  // Reads one tensor (CPU, on-disk dtype, contiguous).
  at::Tensor Read(const std::string& name) const;

 private:
  void AddFile(const std::string& path, const std::string* expected_names_source);
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
  std::string source_;
};

// The safetensors dtype tag ("F32", "BF16", …) for an ATen dtype, and back; throws for unsupported ones.
std::string SafetensorsDtypeName(at::ScalarType dtype);
at::ScalarType SafetensorsDtypeFromName(const std::string& name, const std::string& where);

// Writes tensors (any device/dtype; written as they are) into one file, fsynced.
void WriteSafetensorsFile(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                          const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// Writes `stem`.safetensors, or shards `stem`-0000i-of-0000n.safetensors plus `stem`.safetensors.index.json
// when the total exceeds max_shard_bytes (the layout transformers writes). Returns the file names written.
std::vector<std::string> WriteSafetensorsDir(const std::string& dir, const std::string& stem,
                                             const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                             uint64_t max_shard_bytes);

// Writes a small text file and fsyncs it.
void WriteTextFileSynced(const std::string& path, const std::string& text);
std::string ReadTextFile(const std::string& path);
bool FileExists(const std::string& path);

}  // namespace siri
