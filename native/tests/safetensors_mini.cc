// Minimal safetensors + JSON reading for the unit driver (see safetensors_mini.h).
#include "safetensors_mini.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace siri::testing {
namespace {

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : s_(text) {}

  Json ParseDocument() {
    Json v = ParseValue();
    SkipSpace();
    if (pos_ != s_.size()) Fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(pos_));
  }
  void SkipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  char Peek() {
    SkipSpace();
    if (pos_ >= s_.size()) Fail("unexpected end");
    return s_[pos_];
  }
  void Expect(char c) {
    if (Peek() != c) Fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  bool Consume(const char* word) {
    const size_t n = std::strlen(word);
    if (s_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  Json ParseValue() {
    const char c = Peek();
    Json v;
    if (c == '{') {
      v.kind = Json::Kind::kObject;
      ++pos_;
      if (Peek() == '}') {
        ++pos_;
        return v;
      }
      while (true) {
        std::string key = ParseString();
        Expect(':');
        v.object[key] = ParseValue();
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        Expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Json::Kind::kArray;
      ++pos_;
      if (Peek() == ']') {
        ++pos_;
        return v;
      }
      while (true) {
        v.array.push_back(ParseValue());
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        Expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Json::Kind::kString;
      v.string = ParseString();
      return v;
    }
    if (Consume("true")) {
      v.kind = Json::Kind::kBool;
      v.boolean = true;
      return v;
    }
    if (Consume("false")) {
      v.kind = Json::Kind::kBool;
      return v;
    }
    if (Consume("null")) return v;
    size_t used = 0;
    try {
      v.number = std::stod(s_.substr(pos_, 64), &used);
    } catch (const std::exception&) {
      Fail("bad value");
    }
    pos_ += used;
    v.kind = Json::Kind::kNumber;
    return v;
  }

  std::string ParseString() {
    Expect('"');
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c == '\\') {
        if (pos_ >= s_.size()) Fail("bad escape");
        const char e = s_[pos_++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'u': {
            // Only ASCII escapes occur in our files.
            const unsigned code = std::stoul(s_.substr(pos_, 4), nullptr, 16);
            pos_ += 4;
            if (code > 0x7f) Fail("non-ASCII \\u escape");
            out += static_cast<char>(code);
            break;
          }
          default: out += e;
        }
      } else {
        out += c;
      }
    }
    Expect('"');
    return out;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

at::ScalarType DtypeOf(const std::string& name) {
  if (name == "F32") return at::kFloat;
  if (name == "I64") return at::kLong;
  if (name == "BF16") return at::kBFloat16;
  if (name == "F16") return at::kHalf;
  throw std::runtime_error("unsupported safetensors dtype " + name);
}

}  // namespace

const Json& Json::at(const std::string& key) const {
  const auto it = object.find(key);
  if (it == object.end()) throw std::runtime_error("JSON: missing key '" + key + "'");
  return it->second;
}

Json Json::Parse(const std::string& text) { return JsonParser(text).ParseDocument(); }

SafetensorsFile ReadSafetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  if (bytes.size() < 8) throw std::runtime_error(path + ": too short for a safetensors file");
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, bytes.data(), 8);  // little-endian, as is the host
  if (8 + headerLen > bytes.size()) throw std::runtime_error(path + ": header runs past the end");
  const Json header = Json::Parse(bytes.substr(8, headerLen));
  const char* data = bytes.data() + 8 + headerLen;
  const size_t dataLen = bytes.size() - 8 - headerLen;

  SafetensorsFile out;
  for (const auto& [name, entry] : header.object) {
    if (name == "__metadata__") {
      for (const auto& [k, v] : entry.object) out.metadata[k] = v.string;
      continue;
    }
    std::vector<int64_t> shape;
    for (const Json& d : entry.at("shape").array) shape.push_back(static_cast<int64_t>(d.number));
    const auto begin = static_cast<size_t>(entry.at("data_offsets").array.at(0).number);
    const auto end = static_cast<size_t>(entry.at("data_offsets").array.at(1).number);
    if (end < begin || end > dataLen) throw std::runtime_error(path + ": bad offsets for " + name);
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(DtypeOf(entry.at("dtype").string)));
    if (static_cast<size_t>(t.nbytes()) != end - begin) {
      throw std::runtime_error(path + ": byte size of " + name + " does not match its shape");
    }
    std::memcpy(t.data_ptr(), data + begin, end - begin);
    out.tensors[name] = t;
  }
  return out;
}

}  // namespace siri::testing
