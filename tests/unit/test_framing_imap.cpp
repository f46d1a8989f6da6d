// The IMAP framer: responses with {n} literals.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "framing/framers.hpp"
#include "test_framing_helpers.hpp"

using namespace parley::framing;
using namespace parley::framing::testing;
using namespace std::string_literals;

namespace {

MakeFramer imap_framer(Limits limits = {}) {
  return [limits] { return make_imap_framer(limits); };
}

bool has_violation(const Unit& u, std::string_view part) {
  for (const auto& v : u.violations) {
    if (v.find(part) != std::string::npos) return true;
  }
  return false;
}

using Strings = std::vector<std::string>;

struct Step {
  Status status;
  Unit unit;
  std::string error;
};

Step next(Framer& f, InputBuffer& in) {
  Step s;
  s.status = f.next(in, s.unit, s.error);
  return s;
}

}  // namespace

TEST_CASE("imap: one-line responses", "[framing][imap]") {
  std::string input =
      "* OK [CAPABILITY IMAP4rev1] ready\r\na001 OK LOGIN completed\r\n+ idling\r\n+\r\n"
      "* 3 EXISTS\r\n";
  auto fed = same_for_every_split(imap_framer(), input);
  REQUIRE(fed.units.size() == 5);
  REQUIRE(fed.units[0].status == "*");
  REQUIRE(fed.units[0].text == "* OK [CAPABILITY IMAP4rev1] ready");
  REQUIRE(fed.units[0].lines == Strings{"* OK [CAPABILITY IMAP4rev1] ready"});
  REQUIRE(fed.units[0].raw == "* OK [CAPABILITY IMAP4rev1] ready\r\n");
  REQUIRE(fed.units[0].literals.empty());
  REQUIRE(fed.units[1].status == "a001");
  REQUIRE(fed.units[1].text == "a001 OK LOGIN completed");
  REQUIRE(fed.units[2].status == "+");
  REQUIRE(fed.units[3].status == "+");
  REQUIRE(fed.units[3].text == "+");
  REQUIRE(fed.units[4].status == "*");
  for (const auto& u : fed.units) REQUIRE(u.violations.empty());
  REQUIRE(raw_of(fed.units) == input);
}

TEST_CASE("imap: a response with one literal", "[framing][imap]") {
  std::string input = "* 1 FETCH (BODY[] {12}\r\nHello\r\nWorld)\r\nA1 OK done\r\n";
  auto fed = same_for_every_split(imap_framer(), input);
  REQUIRE(fed.units.size() == 2);
  const Unit& u = fed.units[0];
  REQUIRE(u.status == "*");
  REQUIRE(u.text == "* 1 FETCH (BODY[] {12}");
  REQUIRE(u.lines == Strings{"* 1 FETCH (BODY[] {12}", ")"});
  REQUIRE(u.literals == Strings{"Hello\r\nWorld"});
  REQUIRE(u.raw == "* 1 FETCH (BODY[] {12}\r\nHello\r\nWorld)\r\n");
  REQUIRE(u.violations.empty());
  REQUIRE(fed.units[1].status == "A1");
  REQUIRE(raw_of(fed.units) == input);
}

TEST_CASE("imap: literal spans locate each literal in raw", "[framing][imap]") {
  std::string input = "* 1 FETCH (A {3}\r\nabc B {0}\r\n C ~{2+}\r\nxy)\r\n";
  using Spans = std::vector<std::pair<std::size_t, std::size_t>>;
  SECTION("with copies") {
    auto fed = same_for_every_split(imap_framer(), input);
    REQUIRE(fed.units.size() == 1);
    const Unit& u = fed.units[0];
    REQUIRE(u.literals == Strings{"abc", "", "xy"});
    REQUIRE(u.literal_spans == Spans{{18, 3}, {29, 0}, {39, 2}});
    for (std::size_t i = 0; i < u.literals.size(); ++i) {
      REQUIRE(u.raw.substr(u.literal_spans[i].first, u.literal_spans[i].second) == u.literals[i]);
    }
  }
  SECTION("spans only") {
    auto make = [] {
      auto f = make_imap_framer({});
      f->literals_as_spans(true);
      return f;
    };
    auto fed = same_for_every_split(make, input);
    REQUIRE(fed.units.size() == 1);
    const Unit& u = fed.units[0];
    REQUIRE(u.literals.empty());
    REQUIRE(u.literal_spans == Spans{{18, 3}, {29, 0}, {39, 2}});
    REQUIRE(u.raw.substr(39, 2) == "xy");
    REQUIRE(u.lines.size() == 4);
  }
  SECTION("literals of 2 bytes and more in blocks") {
    auto make = [] {
      auto f = make_imap_framer({});
      f->literals_in_blocks(24, 2);
      return f;
    };
    auto fed = same_for_every_split(make, input);
    REQUIRE(fed.units.size() == 1);
    const Unit& u = fed.units[0];
    REQUIRE(u.literals.empty());
    REQUIRE(u.literal_spans == Spans{{18, 3}, {29, 0}, {39, 2}});
    REQUIRE(u.raw == "* 1 FETCH (A {3}\r\n B {0}\r\n C ~{2+}\r\n)\r\n");
    REQUIRE(u.literal_blocks.size() == 3);
    REQUIRE(u.literal_blocks[0].view() == "abc");
    REQUIRE_FALSE(u.literal_blocks[1].allocated());
    REQUIRE(u.literal_blocks[2].view() == "xy");
    REQUIRE(u.literal_blocks[2].head() == 24);
    REQUIRE(u.whole_raw() == input);
    REQUIRE(u.whole_size() == input.size());
  }
}

TEST_CASE("imap: literals in blocks: partial units and limits", "[framing][imap]") {
  auto f = make_imap_framer(small_limits(100, 40, 10));
  f->literals_in_blocks(16, 4);
  InputBuffer in;
  SECTION("a literal's bytes are gathered in the buffer, in place") {
    in.append("* 1 FETCH (BODY[] {6}\r\nab");
    REQUIRE(next(*f, in).status == Status::need_more);
    REQUIRE(in.view() == "ab");
    char* room = in.prepare(4);
    std::memcpy(room, "cd", 2);
    in.commit(2);
    REQUIRE(next(*f, in).status == Status::need_more);
    in.append("ef)\r\n");
    auto s = next(*f, in);
    REQUIRE(s.status == Status::unit);
    REQUIRE(s.unit.literal_blocks.at(0).view() == "abcdef");
    REQUIRE(s.unit.literal_blocks[0].view().data() == room - 2);  // the buffer's own storage
    REQUIRE(s.unit.whole_raw() == "* 1 FETCH (BODY[] {6}\r\nabcdef)\r\n");
    REQUIRE(in.empty());
    in.append("* 2 EXISTS\r\n");  // the buffer goes on with storage of its own
    REQUIRE(next(*f, in).unit.raw == "* 2 EXISTS\r\n");
    REQUIRE(s.unit.literal_blocks[0].view() == "abcdef");
  }
  SECTION("take_partial gives back what the framer holds; the buffer keeps the rest") {
    in.append("* 1 FETCH (A {4}\r\nabcd B {6}\r\nxyz");
    REQUIRE(next(*f, in).status == Status::need_more);
    REQUIRE(in.view() == "xyz");
    std::string partial = f->take_partial();
    REQUIRE(partial == "* 1 FETCH (A {4}\r\nabcd B {6}\r\n");
    in.unread(partial);
    REQUIRE(in.view() == "* 1 FETCH (A {4}\r\nabcd B {6}\r\nxyz");
    in.append("uvw)\r\n");
    auto s = next(*f, in);
    REQUIRE(s.status == Status::unit);
    REQUIRE(s.unit.literal_blocks.at(1).view() == "xyzuvw");
    REQUIRE(s.unit.whole_raw() == "* 1 FETCH (A {4}\r\nabcd B {6}\r\nxyzuvw)\r\n");
  }
  SECTION("the bytes in blocks count against max_unit") {
    // 19 + 10 bytes: within 40; the 12 bytes after the literal are not.
    in.append("* 1 FETCH (X {10}\r\n0123456789 and more)\r\n");
    auto s = next(*f, in);
    REQUIRE(s.status == Status::error);
    REQUIRE(s.error.find("larger than 40 bytes") != std::string::npos);
  }
  SECTION("and a literal announced past it is refused before any payload") {
    in.append("* 1 FETCH (X {5}\r\n01234 Y {10}\r\n");
    auto s = next(*f, in);
    REQUIRE(s.status == Status::error);
    REQUIRE(s.error.find("after 32 bytes") != std::string::npos);
  }
}

TEST_CASE("imap: a Block released to its owner", "[framing]") {
  Block b(8);
  REQUIRE_FALSE(b.allocated());
  REQUIRE(b.release() == nullptr);
  b.reserve(100);
  b.append("hello");
  Block copy = b;
  b.append(" world");
  REQUIRE(copy.view() == "hello");
  REQUIRE(b.view() == "hello world");
  char* base = b.release();
  REQUIRE_FALSE(b.allocated());
  REQUIRE(std::string_view(base + 8) == "hello world");  // terminated after the bytes
  std::free(base);
}

TEST_CASE("imap: take_partial in the middle of a literal", "[framing][imap]") {
  auto f = make_imap_framer({});
  InputBuffer in;
  in.append("* 1 FETCH (BODY[] {6}\r\nabc");
  REQUIRE(next(*f, in).status == Status::need_more);
  REQUIRE(in.empty());
  std::string partial = f->take_partial();
  REQUIRE(partial == "* 1 FETCH (BODY[] {6}\r\nabc");
  in.unread(partial);
  in.append("def)\r\n");
  auto s = next(*f, in);
  REQUIRE(s.status == Status::unit);
  REQUIRE(s.unit.literals == Strings{"abcdef"});
  REQUIRE(s.unit.lines == Strings{"* 1 FETCH (BODY[] {6}", ")"});
}

TEST_CASE("imap: several literals in one response", "[framing][imap]") {
  std::string input =
      "* 7 FETCH (BODY[HEADER] {3}\r\nabc BODY[TEXT] {4}\r\nwxyz FLAGS (\\Seen) X {2}\r\n()"
      ")\r\n";
  auto fed = same_for_every_split(imap_framer(), input);
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].lines ==
          Strings{"* 7 FETCH (BODY[HEADER] {3}", " BODY[TEXT] {4}", " FLAGS (\\Seen) X {2}", ")"});
  REQUIRE(fed.units[0].literals == Strings{"abc", "wxyz", "()"});
  REQUIRE(fed.units[0].raw == input);
}

TEST_CASE("imap: a literal whose payload looks like markers and line ends", "[framing][imap]") {
  // The payload ends in "{5}\r\n" itself; it must not open another literal.
  std::string payload = "x {5}\r\n* OK fake\r\n{5}\r\n";
  std::string input =
      "* 1 FETCH (BODY[] {" + std::to_string(payload.size()) + "}\r\n" + payload + ")\r\n";
  auto fed = same_for_every_split(imap_framer(), input);
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].literals == Strings{payload});
  REQUIRE(fed.units[0].lines.size() == 2);
  REQUIRE(fed.units[0].lines[1] == ")");
}

TEST_CASE("imap: literal markers", "[framing][imap]") {
  SECTION("{0}") {
    auto fed = same_for_every_split(imap_framer(), "* 1 FETCH (BODY[] {0}\r\n)\r\n");
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.units[0].literals == Strings{""});
    REQUIRE(fed.units[0].lines == Strings{"* 1 FETCH (BODY[] {0}", ")"});
  }
  SECTION("{0} right before the line end") {
    auto fed = same_for_every_split(imap_framer(), "* X {0}\r\n\r\n* OK\r\n");
    REQUIRE(fed.units.size() == 2);
    REQUIRE(fed.units[0].lines == Strings{"* X {0}", ""});
    REQUIRE(fed.units[0].literals == Strings{""});
  }
  SECTION("non-synchronizing and literal8") {
    auto fed = same_for_every_split(imap_framer(), "* X {3+}\r\nabc ~{2}\r\n\0\1 ~{1+}\r\nz)\r\n"s);
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.units[0].literals == Strings{"abc", "\0\1"s, "z"});
    REQUIRE(fed.units[0].lines == Strings{"* X {3+}", " ~{2}", " ~{1+}", ")"});
  }
  SECTION("leading zeros") {
    auto fed = same_for_every_split(imap_framer(), "* X {003}\r\nabc)\r\n");
    REQUIRE(fed.units[0].literals == Strings{"abc"});
  }
  SECTION("things that are not markers") {
    std::string input =
        "* OK {abc}\r\n* OK {}\r\n* OK {5} \r\n* OK 5}\r\n* OK {+}\r\n* OK {5++}\r\n* OK {-5}\r\n"
        "}\r\n";
    auto fed = same_for_every_split(imap_framer(), input);
    REQUIRE(fed.units.size() == 8);
    for (const auto& u : fed.units) {
      INFO(u.text);
      REQUIRE(u.literals.empty());
      REQUIRE(u.lines.size() == 1);
    }
  }
}

TEST_CASE("imap: a literal that ends exactly at the end of the buffer", "[framing][imap]") {
  auto f = make_imap_framer({});
  InputBuffer in;
  in.append("* 1 FETCH (BODY[] {3}\r\nabc");
  auto s = next(*f, in);
  REQUIRE(s.status == Status::need_more);
  REQUIRE(in.empty());  // the payload was taken from the buffer
  in.append(")\r\n");
  s = next(*f, in);
  REQUIRE(s.status == Status::unit);
  REQUIRE(s.unit.literals == Strings{"abc"});
  REQUIRE(s.unit.raw == "* 1 FETCH (BODY[] {3}\r\nabc)\r\n");
}

TEST_CASE("imap: a literal split over many reads", "[framing][imap]") {
  auto f = make_imap_framer({});
  InputBuffer in;
  in.append("* 1 FETCH (BODY[] {10}\r\n01");
  REQUIRE(next(*f, in).status == Status::need_more);
  in.append("2345");
  REQUIRE(next(*f, in).status == Status::need_more);
  in.append("6789 FLAGS");
  REQUIRE(next(*f, in).status == Status::need_more);
  REQUIRE(in.view() == " FLAGS");
  in.append(" ()");
  REQUIRE(next(*f, in).status == Status::need_more);
  in.append(")\r\n* OK");
  auto s = next(*f, in);
  REQUIRE(s.status == Status::unit);
  REQUIRE(s.unit.literals == Strings{"0123456789"});
  REQUIRE(s.unit.lines == Strings{"* 1 FETCH (BODY[] {10}", " FLAGS ())"});
  REQUIRE(in.view() == "* OK");
}

TEST_CASE("imap: a huge announced literal is refused before any payload", "[framing][imap]") {
  SECTION("larger than max_unit") {
    auto f = make_imap_framer({});
    InputBuffer in;
    in.append("* 1 FETCH (BODY[] {4294967295}\r\npayload");
    auto s = next(*f, in);
    REQUIRE(s.status == Status::error);
    REQUIRE(s.error.find("4294967295") != std::string::npos);
    REQUIRE(s.error.find("literal") != std::string::npos);
    REQUIRE(in.view() == "payload");
  }
  SECTION("a number that overflows 64 bits") {
    auto f = make_imap_framer({});
    InputBuffer in;
    in.append("* 1 FETCH (BODY[] {99999999999999999999999999}\r\n");
    auto s = next(*f, in);
    REQUIRE(s.status == Status::error);
    REQUIRE(s.error.find("99999999999999999999999999") != std::string::npos);
  }
  SECTION("just over the limit, and exactly at it") {
    Limits limits = small_limits(100, 40, 100);
    auto refused = same_for_every_split(imap_framer(limits), "* X {41}\r\n");
    REQUIRE(refused.error.find("literal of 41 bytes") != std::string::npos);
    REQUIRE(refused.error.find("40 bytes") != std::string::npos);
    // The line (10 bytes) plus a literal of 31 bytes is more than 40 bytes.
    auto total = same_for_every_split(imap_framer(limits), "* X {31}\r\n");
    REQUIRE(total.error.find("response larger than 40 bytes") != std::string::npos);
    REQUIRE(total.error.find("literal of 31 bytes") != std::string::npos);
    std::string fits = "* X {27}\r\n" + std::string(27, 'p') + "\r\n";
    REQUIRE(fits.size() == 39);
    auto ok = same_for_every_split(imap_framer(limits), fits);
    REQUIRE(ok.error.empty());
    REQUIRE(ok.units.size() == 1);
    REQUIRE(ok.units[0].literals[0].size() == 27);
  }
}

TEST_CASE("imap: limits on segments", "[framing][imap]") {
  SECTION("oversize line segment") {
    auto fed = same_for_every_split(imap_framer(small_limits(12, 1000, 100)),
                                    "* OK short\r\n* X {2}\r\nab and this part is too long\r\n");
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.error.find("line longer than 12 bytes") != std::string::npos);
  }
  SECTION("oversize response made of lines and literals") {
    auto fed = same_for_every_split(imap_framer(small_limits(100, 30, 100)),
                                    "* X {5}\r\n12345 {5}\r\n12345 {5}\r\n12345)\r\n");
    REQUIRE(fed.units.empty());
    REQUIRE(fed.error.find("response larger than 30 bytes") != std::string::npos);
  }
  SECTION("too many segments") {
    auto fed = same_for_every_split(imap_framer(small_limits(100, 1000, 3)),
                                    "* A {0}\r\n{0}\r\n)\r\n* B {0}\r\n{0}\r\n{0}\r\n)\r\n");
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.units[0].lines.size() == 3);
    REQUIRE(fed.error == "response of more than 3 line segments");
  }
  SECTION("reset() after an error starts afresh") {
    auto f = make_imap_framer(small_limits(100, 1000, 100));
    InputBuffer in;
    in.append("* X {5000}\r\n");
    REQUIRE(next(*f, in).status == Status::error);
    f->reset();
    in.consume(in.size());
    in.append("* OK again\r\n");
    auto s = next(*f, in);
    REQUIRE(s.status == Status::unit);
    REQUIRE(s.unit.raw == "* OK again\r\n");
    REQUIRE(s.unit.literals.empty());
  }
}

TEST_CASE("imap: bare LF is tolerated and noted", "[framing][imap]") {
  auto fed = same_for_every_split(imap_framer(), "* X {3}\nab\n)\n* OK\r\n");
  REQUIRE(fed.units.size() == 2);
  REQUIRE(fed.units[0].literals == Strings{"ab\n"});
  REQUIRE(fed.units[0].lines == Strings{"* X {3}", ")"});
  REQUIRE(fed.units[0].violations == Strings{"line ended in a bare LF, not CRLF"});
  REQUIRE(fed.units[1].violations.empty());
}

TEST_CASE("imap: NUL bytes in lines and literals", "[framing][imap]") {
  std::string input = "* \0 X {3}\r\n\0\0\0\0)\r\n"s;
  auto fed = same_for_every_split(imap_framer(), input);
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].status == "*");
  REQUIRE(fed.units[0].text == "* \0 X {3}"s);
  REQUIRE(fed.units[0].literals == Strings{"\0\0\0"s});
  REQUIRE(fed.units[0].lines[1] == "\0)"s);
  REQUIRE(fed.units[0].raw == input);
}

TEST_CASE("imap: an empty line is noted", "[framing][imap]") {
  auto fed = same_for_every_split(imap_framer(), "\r\n OK\r\n* OK\r\n");
  REQUIRE(fed.units.size() == 3);
  REQUIRE(fed.units[0].status.empty());
  REQUIRE(has_violation(fed.units[0], "does not start with a tag"));
  REQUIRE(fed.units[1].status.empty());
  REQUIRE(fed.units[2].violations.empty());
}

TEST_CASE("imap: a 50 MB literal in 16 KB reads is framed in linear time", "[framing][imap]") {
  const std::size_t size = 50 * 1024 * 1024;
  std::string input = "* 1 FETCH (BODY[] {" + std::to_string(size) + "}\r\n";
  input.reserve(input.size() + size + 16);
  for (std::size_t i = 0; i < size; ++i) input += static_cast<char>('a' + i % 26);
  input += ")\r\n";
  auto f = make_imap_framer({});
  InputBuffer in;
  Unit u;
  std::string error;
  Status status = Status::need_more;
  auto started = std::chrono::steady_clock::now();
  for (std::size_t pos = 0; pos < input.size(); pos += 16 * 1024) {
    in.append(std::string_view(input).substr(pos, 16 * 1024));
    status = f->next(in, u, error);
    REQUIRE(in.size() <= 16 * 1024);  // payload does not pile up in the buffer
    if (status != Status::need_more) break;
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  REQUIRE(status == Status::unit);
  REQUIRE(u.literals.size() == 1);
  REQUIRE(u.literals[0].size() == size);
  REQUIRE(u.literals[0].compare(0, 26, "abcdefghijklmnopqrstuvwxyz") == 0);
  REQUIRE(u.literal_spans.size() == 1);
  REQUIRE(u.literal_spans[0].second == size);
  REQUIRE(u.raw.compare(u.literal_spans[0].first, size, u.literals[0]) == 0);
  REQUIRE(u.raw == input);
  REQUIRE(seconds < 20);
}
