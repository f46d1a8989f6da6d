// Just enough JSON for parley load's results: a writer that builds text, and a reader into a
// small value tree (for --merge). Numbers keep their text so that 64-bit counts stay exact.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace parley::load::json {

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Value {
 public:
  enum class Type { null, boolean, number, string, array, object };

  Type type = Type::null;
  bool boolean = false;
  std::string text;  ///< a string's value, or a number as written
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;  ///< in document order

  bool is_null() const { return type == Type::null; }
  bool is_number() const { return type == Type::number; }
  bool is_string() const { return type == Type::string; }
  bool is_array() const { return type == Type::array; }
  bool is_object() const { return type == Type::object; }
  /// A member of an object, or nullptr.
  const Value* get(std::string_view key) const;
  double as_double() const;
  /// Throws ParseError unless the number is a whole number from 0 up.
  std::uint64_t as_count() const;
};

/// Parses a whole document; throws ParseError naming the byte offset of a problem.
Value parse(std::string_view text);

/// Writes JSON text. Keys and values are appended in call order; commas are handled.
class Writer {
 public:
  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& value(std::string_view s);
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(double d);
  Writer& value(std::uint64_t n);
  Writer& value(std::int64_t n);
  Writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
  Writer& value(bool b);
  Writer& null();
  const std::string& str() const { return out_; }

 private:
  void comma();
  std::string out_;
  std::vector<bool> first_;  ///< per open container: nothing written in it yet
  bool after_key_ = false;
};

/// `s` as a JSON string literal (invalid UTF-8 bytes become U+FFFD).
std::string quote(std::string_view s);

}  // namespace parley::load::json
