// A small JSON reader/writer for the files the engine reads and writes itself: HF config.json,
// safetensors headers, model.safetensors.index.json. No dependencies beyond the standard library.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace siri {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json>;

  Json() = default;
  static Json Bool(bool b);
  static Json Number(double d);
  static Json Integer(int64_t i);
  static Json String(std::string s);
  static Json MakeArray(Array a = {});
  static Json MakeObject(Object o = {});

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_bool() const { return type_ == Type::kBool; }

  // Accessors throw std::invalid_argument naming `what` when the type does not match.
  bool AsBool(const std::string& what) const;
  double AsNumber(const std::string& what) const;
  // Exact integers (offsets, sizes): the literal must have no fraction/exponent.
  int64_t AsInt(const std::string& what) const;
  const std::string& AsString(const std::string& what) const;
  const Array& AsArray(const std::string& what) const;
  const Object& AsObject(const std::string& what) const;
  Array& MutableArray();
  Object& MutableObject();

  // Object member or nullptr.
  const Json* Find(const std::string& key) const;

  std::string Dump(int indent = -1) const;

 private:
  void DumpTo(std::string& out, int indent, int depth) const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  bool is_integer_ = false;
  int64_t integer_ = 0;
  std::string string_;
  std::shared_ptr<Array> array_;
  std::shared_ptr<Object> object_;
  friend class JsonParser;
};

// Throws std::invalid_argument "<source>: invalid JSON at byte N: ..." on malformed text.
Json ParseJson(const std::string& text, const std::string& source);
std::string JsonEscape(const std::string& s);

}  // namespace siri
