// Safetensors format: 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the raw little-endian tensor bytes (offsets relative to the end of the header).
#include "safetensors.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "json.h"

namespace siri {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

std::invalid_argument FileError(const std::string& path, const std::string& why) {
  return std::invalid_argument(path + ": " + why);
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw FileError(path, std::string("cannot stat: ") + std::strerror(errno));
  return static_cast<uint64_t>(st.st_size);
}

// Reads exactly `size` bytes at `offset`.
void PreadExact(int fd, void* dst, uint64_t size, uint64_t offset, const std::string& path) {
  auto* out = static_cast<char*>(dst);
  while (size > 0) {
    ssize_t got = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      throw FileError(path, std::string("read failed: ") + std::strerror(errno));
    }
    if (got == 0) throw FileError(path, "file ends early (truncated?)");
    out += got;
    size -= static_cast<uint64_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

class Fd {
 public:
  Fd(const std::string& path, int flags, int mode = 0644) : path_(path) {
    fd_ = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd_ < 0) throw FileError(path, std::string("cannot open: ") + std::strerror(errno));
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void WriteAll(const void* data, uint64_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd_, p, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw FileError(path_, std::string("write failed: ") + std::strerror(errno));
      }
      p += n;
      size -= static_cast<uint64_t>(n);
    }
  }
  void SyncAndClose() {
    if (::fsync(fd_) != 0) throw FileError(path_, std::string("fsync failed: ") + std::strerror(errno));
    if (::close(fd_) != 0) {
      fd_ = -1;
      throw FileError(path_, std::string("close failed: ") + std::strerror(errno));
    }
    fd_ = -1;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

std::string SafetensorsDtypeName(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "F32";
    case at::kHalf: return "F16";
    case at::kBFloat16: return "BF16";
    case at::kDouble: return "F64";
    case at::kLong: return "I64";
    case at::kInt: return "I32";
    case at::kShort: return "I16";
    case at::kChar: return "I8";
    case at::kByte: return "U8";
    case at::kBool: return "BOOL";
    default: throw std::invalid_argument(std::string("safetensors: unsupported dtype ") + c10::toString(dtype));
  }
}

at::ScalarType SafetensorsDtypeFromName(const std::string& name, const std::string& where) {
  if (name == "F32") return at::kFloat;
  if (name == "F16") return at::kHalf;
  if (name == "BF16") return at::kBFloat16;
  if (name == "F64") return at::kDouble;
  if (name == "I64") return at::kLong;
  if (name == "I32") return at::kInt;
  if (name == "I16") return at::kShort;
  if (name == "I8") return at::kChar;
  if (name == "U8") return at::kByte;
  if (name == "BOOL") return at::kBool;
  throw std::invalid_argument(where + ": unsupported safetensors dtype '" + name + "'");
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ReadTextFile(const std::string& path) {
  const uint64_t size = FileSize(path);
  if (size > (1ull << 30)) throw FileError(path, "too large for a text file");
  Fd fd(path, O_RDONLY);
  std::string text(size, '\0');
  if (size > 0) PreadExact(fd.get(), text.data(), size, 0, path);
  return text;
}

void WriteTextFileSynced(const std::string& path, const std::string& text) {
  Fd fd(path, O_WRONLY | O_CREAT | O_TRUNC);
  fd.WriteAll(text.data(), text.size());
  fd.SyncAndClose();
}

SafetensorsReader SafetensorsReader::OpenFile(const std::string& path) {
  SafetensorsReader reader;
  reader.source_ = path;
  reader.AddFile(path, nullptr);
  return reader;
}

SafetensorsReader SafetensorsReader::OpenDir(const std::string& dir, const std::string& stem) {
  const std::string index_path = JoinPath(dir, stem + ".safetensors.index.json");
  const std::string single_path = JoinPath(dir, stem + ".safetensors");
  SafetensorsReader reader;
  if (FileExists(index_path)) {
    reader.source_ = index_path;
    const Json index = ParseJson(ReadTextFile(index_path), index_path);
    const Json* weight_map = index.Find("weight_map");
    if (!weight_map) throw FileError(index_path, "has no \"weight_map\"");
    std::map<std::string, std::vector<std::string>> names_by_file;
    for (const auto& [name, file] : weight_map->AsObject(index_path + " weight_map")) {
      names_by_file[file.AsString(index_path + " weight_map[\"" + name + "\"]")].push_back(name);
    }
    for (const auto& [file, names] : names_by_file) {
      if (file.find('/') != std::string::npos) throw FileError(index_path, "shard name '" + file + "' has a '/'");
      const std::string shard = JoinPath(dir, file);
      if (!FileExists(shard)) throw FileError(shard, "missing (listed in " + index_path + ")");
      reader.AddFile(shard, &index_path);
      for (const auto& name : names) {
        auto it = reader.entries_.find(name);
        if (it == reader.entries_.end() || it->second.file != shard) {
          throw FileError(shard, "does not contain tensor '" + name + "' that " + index_path + " places there");
        }
      }
    }
    return reader;
  }
  if (FileExists(single_path)) {
    reader.source_ = single_path;
    reader.AddFile(single_path, nullptr);
    return reader;
  }
  throw FileError(dir, "has neither " + stem + ".safetensors nor " + stem + ".safetensors.index.json");
}

void SafetensorsReader::AddFile(const std::string& path, const std::string* /*expected_names_source*/) {
  const uint64_t file_size = FileSize(path);
  if (file_size < 8) throw FileError(path, "too short to be a safetensors file (" + std::to_string(file_size) + " bytes)");
  Fd fd(path, O_RDONLY);
  uint8_t len_bytes[8];
  PreadExact(fd.get(), len_bytes, 8, 0, path);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > kMaxHeaderBytes || header_len > file_size - 8) {
    throw FileError(path, "header length " + std::to_string(header_len) + " does not fit the file (" +
                              std::to_string(file_size) + " bytes): not a safetensors file or truncated");
  }
  std::string header(header_len, '\0');
  PreadExact(fd.get(), header.data(), header_len, 8, path);
  const Json root = ParseJson(header, path + " header");
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = file_size - data_start;
  for (const auto& [name, value] : root.AsObject(path + " header")) {
    if (name == "__metadata__") {
      if (value.is_object()) {
        for (const auto& [k, v] : value.AsObject("__metadata__")) {
          if (v.is_string()) metadata_[k] = v.AsString(k);
        }
      }
      continue;
    }
    const std::string where = path + " tensor '" + name + "'";
    const Json* dtype = value.Find("dtype");
    const Json* shape = value.Find("shape");
    const Json* offsets = value.Find("data_offsets");
    if (!dtype || !shape || !offsets) throw FileError(path, "tensor '" + name + "' lacks dtype/shape/data_offsets");
    SafetensorsEntry entry;
    entry.file = path;
    entry.dtype = SafetensorsDtypeFromName(dtype->AsString(where + " dtype"), where);
    int64_t numel = 1;
    for (const auto& d : shape->AsArray(where + " shape")) {
      const int64_t dim = d.AsInt(where + " shape entry");
      if (dim < 0) throw FileError(path, "tensor '" + name + "' has a negative dimension");
      entry.shape.push_back(dim);
      numel *= dim;
    }
    const auto& off = offsets->AsArray(where + " data_offsets");
    if (off.size() != 2) throw FileError(path, "tensor '" + name + "' data_offsets must have 2 entries");
    const int64_t begin = off[0].AsInt(where + " data_offsets[0]");
    const int64_t end = off[1].AsInt(where + " data_offsets[1]");
    if (begin < 0 || end < begin || static_cast<uint64_t>(end) > data_size) {
      throw FileError(path, "tensor '" + name + "' byte range [" + std::to_string(begin) + ", " + std::to_string(end) +
                                ") lies outside the file's " + std::to_string(data_size) +
                                " data bytes (truncated or corrupt)");
    }
    const uint64_t expected = static_cast<uint64_t>(numel) * c10::elementSize(entry.dtype);
    if (static_cast<uint64_t>(end - begin) != expected) {
      throw FileError(path, "tensor '" + name + "' has " + std::to_string(end - begin) + " bytes but its shape and dtype need " +
                                std::to_string(expected));
    }
    entry.begin = data_start + static_cast<uint64_t>(begin);
    entry.end = data_start + static_cast<uint64_t>(end);
    if (entries_.count(name)) throw FileError(path, "tensor '" + name + "' appears in more than one file");
    entries_[name] = std::move(entry);
  }
}

const SafetensorsEntry& SafetensorsReader::Entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw std::invalid_argument(source_ + ": missing tensor '" + name + "'");
  return it->second;
}

std::vector<std::string> SafetensorsReader::Names() const {
  std::vector<std::string> names;
  names.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

at::Tensor SafetensorsReader::Read(const std::string& name) const {
  const SafetensorsEntry& entry = Entry(name);
  at::Tensor out = at::empty(entry.shape, at::TensorOptions().dtype(entry.dtype).device(at::kCPU));
  const uint64_t bytes = entry.end - entry.begin;
  if (bytes > 0) {
    Fd fd(entry.file, O_RDONLY);
    PreadExact(fd.get(), out.data_ptr(), bytes, entry.begin, entry.file);
  }
  return out;
}

void WriteSafetensorsFile(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                          const std::map<std::string, std::string>& metadata) {
  std::vector<at::Tensor> host;
  host.reserve(tensors.size());
  Json::Object header;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") throw std::invalid_argument("safetensors: tensor name __metadata__ is reserved");
    if (header.count(name)) throw std::invalid_argument("safetensors: duplicate tensor name '" + name + "'");
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    Json::Array shape;
    for (int64_t d : t.sizes()) shape.push_back(Json::Integer(d));
    header[name] = Json::MakeObject({{"dtype", Json::String(SafetensorsDtypeName(t.scalar_type()))},
                                     {"shape", Json::MakeArray(std::move(shape))},
                                     {"data_offsets", Json::MakeArray({Json::Integer(static_cast<int64_t>(offset)),
                                                                       Json::Integer(static_cast<int64_t>(offset + bytes))})}});
    offset += bytes;
    host.push_back(std::move(t));
  }
  if (!metadata.empty()) {
    Json::Object meta;
    for (const auto& [k, v] : metadata) meta[k] = Json::String(v);
    header["__metadata__"] = Json::MakeObject(std::move(meta));
  }
  std::string text = Json::MakeObject(std::move(header)).Dump();
  // Pad the header with spaces so the data starts 8-byte aligned (as the reference implementation does).
  while ((text.size() % 8) != 0) text += ' ';
  uint8_t len_bytes[8];
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<uint8_t>((n >> (8 * i)) & 0xff);
  Fd fd(path, O_WRONLY | O_CREAT | O_TRUNC);
  fd.WriteAll(len_bytes, 8);
  fd.WriteAll(text.data(), text.size());
  for (const auto& t : host) fd.WriteAll(t.data_ptr(), static_cast<uint64_t>(t.numel()) * t.element_size());
  fd.SyncAndClose();
}

std::vector<std::string> WriteSafetensorsDir(const std::string& dir, const std::string& stem,
                                             const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                             uint64_t max_shard_bytes) {
  uint64_t total = 0;
  std::vector<std::vector<std::pair<std::string, at::Tensor>>> shards(1);
  uint64_t shard_bytes = 0;
  for (const auto& entry : tensors) {
    const uint64_t bytes = static_cast<uint64_t>(entry.second.numel()) * entry.second.element_size();
    if (!shards.back().empty() && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(entry);
    shard_bytes += bytes;
    total += bytes;
  }
  if (shards.size() == 1) {
    const std::string name = stem + ".safetensors";
    WriteSafetensorsFile(JoinPath(dir, name), tensors);
    return {name};
  }
  std::vector<std::string> written;
  Json::Object weight_map;
  const size_t count = shards.size();
  for (size_t i = 0; i < count; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "-%05zu-of-%05zu.safetensors", i + 1, count);
    const std::string name = stem + buf;
    WriteSafetensorsFile(JoinPath(dir, name), shards[i]);
    for (const auto& [tensor_name, tensor] : shards[i]) weight_map[tensor_name] = Json::String(name);
    written.push_back(name);
  }
  const Json index = Json::MakeObject({{"metadata", Json::MakeObject({{"total_size", Json::Integer(static_cast<int64_t>(total))}})},
                                       {"weight_map", Json::MakeObject(std::move(weight_map))}});
  const std::string index_name = stem + ".safetensors.index.json";
  WriteTextFileSynced(JoinPath(dir, index_name), index.Dump(2) + "\n");
  written.push_back(index_name);
  return written;
}

}  // namespace siri
