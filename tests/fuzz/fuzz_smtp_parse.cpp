// Fuzzes parse_smtp_line and parse_enhanced against their grammar.
#include "fuzz_driver.hpp"

using namespace parley::framing;

namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}

std::size_t digit_run(std::string_view s, std::size_t from) {
  std::size_t n = 0;
  while (from + n < s.size() && digit(s[from + n])) ++n;
  return n;
}

void check_smtp_line(std::string_view line) {
  auto parsed = parse_smtp_line(line);
  bool valid = line.size() >= 3 && digit(line[0]) && digit(line[1]) && digit(line[2]) &&
               (line.size() == 3 || line[3] == ' ' || line[3] == '-');
  FUZZ_CHECK(parsed.has_value() == valid);
  if (!parsed) return;
  FUZZ_CHECK(parsed->code == std::stoi(std::string(line.substr(0, 3))));
  FUZZ_CHECK(parsed->more == (line.size() > 3 && line[3] == '-'));
  FUZZ_CHECK(parsed->text == line.substr(std::min<std::size_t>(4, line.size())));
}

void check_enhanced(std::string_view text) {
  std::string_view e = parse_enhanced(text);
  // class "." 1*3digit "." 1*3digit, then the end or a space
  bool valid = false;
  if (text.size() >= 5 && (text[0] == '2' || text[0] == '4' || text[0] == '5') && text[1] == '.') {
    std::size_t subject = digit_run(text, 2);
    std::size_t dot = 2 + subject;
    if (subject >= 1 && subject <= 3 && dot < text.size() && text[dot] == '.') {
      std::size_t detail = digit_run(text, dot + 1);
      std::size_t end = dot + 1 + detail;
      valid = detail >= 1 && detail <= 3 && (end == text.size() || text[end] == ' ');
      if (valid) FUZZ_CHECK(e == text.substr(0, end));
    }
  }
  FUZZ_CHECK(e.empty() != valid);
  if (!e.empty()) {
    FUZZ_CHECK(e.data() == text.data());
    FUZZ_CHECK(parse_enhanced(e) == e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_smtp_line(input);
  check_enhanced(input);
  if (input.size() > 4) check_enhanced(input.substr(4));
  return 0;
}
