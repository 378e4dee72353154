// Recursive-descent JSON parser and serializer (see json.h).
#include "json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace siri {

Json Json::Bool(bool b) {
  Json j;
  j.type_ = Type::kBool;
  j.bool_ = b;
  return j;
}
Json Json::Number(double d) {
  Json j;
  j.type_ = Type::kNumber;
  j.number_ = d;
  return j;
}
Json Json::Integer(int64_t i) {
  Json j;
  j.type_ = Type::kNumber;
  j.number_ = static_cast<double>(i);
  j.is_integer_ = true;
  j.integer_ = i;
  return j;
}
Json Json::String(std::string s) {
  Json j;
  j.type_ = Type::kString;
  j.string_ = std::move(s);
  return j;
}
Json Json::MakeArray(Array a) {
  Json j;
  j.type_ = Type::kArray;
  j.array_ = std::make_shared<Array>(std::move(a));
  return j;
}
Json Json::MakeObject(Object o) {
  Json j;
  j.type_ = Type::kObject;
  j.object_ = std::make_shared<Object>(std::move(o));
  return j;
}

static std::invalid_argument TypeError(const std::string& what, const char* expected) {
  return std::invalid_argument(what + " must be " + expected);
}

bool Json::AsBool(const std::string& what) const {
  if (type_ != Type::kBool) throw TypeError(what, "a boolean");
  return bool_;
}
double Json::AsNumber(const std::string& what) const {
  if (type_ != Type::kNumber) throw TypeError(what, "a number");
  return number_;
}
int64_t Json::AsInt(const std::string& what) const {
  if (type_ != Type::kNumber) throw TypeError(what, "an integer");
  if (is_integer_) return integer_;
  if (std::floor(number_) != number_ || std::fabs(number_) > 9007199254740992.0) throw TypeError(what, "an integer");
  return static_cast<int64_t>(number_);
}
const std::string& Json::AsString(const std::string& what) const {
  if (type_ != Type::kString) throw TypeError(what, "a string");
  return string_;
}
const Json::Array& Json::AsArray(const std::string& what) const {
  if (type_ != Type::kArray) throw TypeError(what, "an array");
  return *array_;
}
const Json::Object& Json::AsObject(const std::string& what) const {
  if (type_ != Type::kObject) throw TypeError(what, "an object");
  return *object_;
}
Json::Array& Json::MutableArray() {
  if (type_ != Type::kArray) throw std::logic_error("Json::MutableArray on a non-array");
  return *array_;
}
Json::Object& Json::MutableObject() {
  if (type_ != Type::kObject) throw std::logic_error("Json::MutableObject on a non-object");
  return *object_;
}
const Json* Json::Find(const std::string& key) const {
  if (type_ != Type::kObject) return nullptr;
  auto it = object_->find(key);
  return it == object_->end() ? nullptr : &it->second;
}

std::string JsonEscape(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

static void Newline(std::string& out, int indent, int depth) {
  if (indent < 0) return;
  out += '\n';
  out.append(static_cast<size_t>(indent * depth), ' ');
}

void Json::DumpTo(std::string& out, int indent, int depth) const {
  switch (type_) {
    case Type::kNull: out += "null"; break;
    case Type::kBool: out += bool_ ? "true" : "false"; break;
    case Type::kNumber: {
      if (is_integer_) {
        out += std::to_string(integer_);
      } else if (std::isfinite(number_) && std::floor(number_) == number_ && std::fabs(number_) < 1e15) {
        // Integral doubles keep a ".0" so Python reads them back as floats (rope_theta: 10000.0).
        out += std::to_string(static_cast<int64_t>(number_)) + ".0";
      } else {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.17g", number_);
        // Shortest text that reads back as the same double.
        for (int prec = 6; prec <= 17; ++prec) {
          char tryb[32];
          std::snprintf(tryb, sizeof(tryb), "%.*g", prec, number_);
          if (std::strtod(tryb, nullptr) == number_) {
            std::snprintf(buf, sizeof(buf), "%s", tryb);
            break;
          }
        }
        out += buf;
      }
      break;
    }
    case Type::kString: out += JsonEscape(string_); break;
    case Type::kArray: {
      out += '[';
      bool first = true;
      for (const auto& v : *array_) {
        if (!first) out += ',';
        first = false;
        Newline(out, indent, depth + 1);
        v.DumpTo(out, indent, depth + 1);
      }
      if (!array_->empty()) Newline(out, indent, depth);
      out += ']';
      break;
    }
    case Type::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : *object_) {
        if (!first) out += ',';
        first = false;
        Newline(out, indent, depth + 1);
        out += JsonEscape(k);
        out += indent < 0 ? ":" : ": ";
        v.DumpTo(out, indent, depth + 1);
      }
      if (!object_->empty()) Newline(out, indent, depth);
      out += '}';
      break;
    }
  }
}

std::string Json::Dump(int indent) const {
  std::string out;
  DumpTo(out, indent, 0);
  return out;
}

class JsonParser {
 public:
  JsonParser(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  Json ParseDocument() {
    Json v = ParseValue(0);
    SkipSpace();
    if (pos_ != text_.size()) Fail("trailing characters after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void Fail(const std::string& why) const {
    throw std::invalid_argument(source_ + ": invalid JSON at byte " + std::to_string(pos_) + ": " + why);
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t'))
      ++pos_;
  }
  bool Consume(const char* literal) {
    size_t n = std::char_traits<char>::length(literal);
    if (text_.compare(pos_, n, literal) == 0) {
      pos_ += n;
      return true;
    }
    return false;
  }
  Json ParseValue(int depth) {
    if (depth > 256) Fail("nesting deeper than 256");
    SkipSpace();
    if (pos_ >= text_.size()) Fail("unexpected end of input");
    char c = text_[pos_];
    if (c == '{') return ParseObject(depth);
    if (c == '[') return ParseArray(depth);
    if (c == '"') return Json::String(ParseString());
    if (Consume("true")) return Json::Bool(true);
    if (Consume("false")) return Json::Bool(false);
    if (Consume("null")) return Json();
    if (Consume("NaN")) return Json::Number(NAN);
    if (Consume("Infinity")) return Json::Number(INFINITY);
    if (Consume("-Infinity")) return Json::Number(-INFINITY);
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
    Fail(std::string("unexpected character '") + c + "'");
  }
  Json ParseNumber() {
    size_t start = pos_;
    bool integral = true;
    if (text_[pos_] == '-') ++pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c >= '0' && c <= '9') {
        ++pos_;
      } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
        integral = false;
        ++pos_;
      } else {
        break;
      }
    }
    std::string lit = text_.substr(start, pos_ - start);
    char* end = nullptr;
    if (integral && lit.size() < 19) {
      long long v = std::strtoll(lit.c_str(), &end, 10);
      if (end == lit.c_str() + lit.size()) return Json::Integer(v);
    }
    double d = std::strtod(lit.c_str(), &end);
    if (end != lit.c_str() + lit.size() || lit == "-") {
      pos_ = start;
      Fail("malformed number '" + lit + "'");
    }
    return Json::Number(d);
  }
  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  uint32_t ParseHex4() {
    if (pos_ + 4 > text_.size()) Fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else Fail("bad \\u escape");
    }
    return v;
  }
  std::string ParseString() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) Fail("unterminated string");
      char c = text_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) Fail("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = ParseHex4();
          if (cp >= 0xD800 && cp < 0xDC00 && Consume("\\u")) {
            uint32_t lo = ParseHex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default: Fail(std::string("bad escape \\") + e);
      }
    }
    return out;
  }
  Json ParseArray(int depth) {
    ++pos_;
    Json::Array arr;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return Json::MakeArray(std::move(arr));
    }
    while (true) {
      arr.push_back(ParseValue(depth + 1));
      SkipSpace();
      if (pos_ >= text_.size()) Fail("unterminated array");
      if (text_[pos_] == ',') {
        ++pos_;
      } else if (text_[pos_] == ']') {
        ++pos_;
        break;
      } else {
        Fail("expected ',' or ']' in array");
      }
    }
    return Json::MakeArray(std::move(arr));
  }
  Json ParseObject(int depth) {
    ++pos_;
    Json::Object obj;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return Json::MakeObject(std::move(obj));
    }
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') Fail("expected a string key in object");
      std::string key = ParseString();
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') Fail("expected ':' after object key");
      ++pos_;
      obj[key] = ParseValue(depth + 1);
      SkipSpace();
      if (pos_ >= text_.size()) Fail("unterminated object");
      if (text_[pos_] == ',') {
        ++pos_;
      } else if (text_[pos_] == '}') {
        ++pos_;
        break;
      } else {
        Fail("expected ',' or '}' in object");
      }
    }
    return Json::MakeObject(std::move(obj));
  }

  const std::string& text_;
  const std::string& source_;
  size_t pos_ = 0;
};

Json ParseJson(const std::string& text, const std::string& source) { return JsonParser(text, source).ParseDocument(); }

}  // namespace siri
