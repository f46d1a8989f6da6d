// The POP3 framer: status lines and dot-terminated blocks.
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>

#include "framing/framers.hpp"
#include "test_framing_helpers.hpp"

using namespace parley::framing;
using namespace parley::framing::testing;
using namespace std::string_literals;

namespace {

MakeFramer pop3_framer(Limits limits = {}) {
  return [limits] { return make_pop3_framer(limits); };
}

/// A hook that calls want_block() before the units whose index is in `wanted`.
Hook want_before(std::set<std::size_t> wanted) {
  return [wanted](Framer& f, std::size_t index) {
    if (wanted.count(index)) f.want_block();
  };
}

bool has_violation(const Unit& u, std::string_view part) {
  for (const auto& v : u.violations) {
    if (v.find(part) != std::string::npos) return true;
  }
  return false;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("pop3: status lines", "[framing][pop3]") {
  std::string input =
      "+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n-ERR no such message\r\n+OK\r\n"
      "+ dXNlcm5hbWU6\r\n+\r\n-ERR\r\n";
  auto fed = same_for_every_split(pop3_framer(), input);
  REQUIRE(fed.units.size() == 6);
  REQUIRE(fed.units[0].status == "+OK");
  REQUIRE(fed.units[0].text == "+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>");
  REQUIRE(fed.units[0].raw == "+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n");
  REQUIRE(fed.units[0].lines.empty());
  REQUIRE(fed.units[1].status == "-ERR");
  REQUIRE(fed.units[1].text == "-ERR no such message");
  REQUIRE(fed.units[2].status == "+OK");
  REQUIRE(fed.units[2].text == "+OK");
  REQUIRE(fed.units[3].status == "+");
  REQUIRE(fed.units[3].text == "+ dXNlcm5hbWU6");
  REQUIRE(fed.units[4].status == "+");
  REQUIRE(fed.units[5].status == "-ERR");
  for (const auto& u : fed.units) {
    REQUIRE(u.violations.empty());
    REQUIRE_FALSE(u.code);
  }
  REQUIRE(raw_of(fed.units) == input);
}

TEST_CASE("pop3: a line that is not a status line", "[framing][pop3]") {
  auto fed =
      same_for_every_split(pop3_framer(), "hello\r\n+OKAY\r\n-ERROR\r\n\r\n+x\r\n+OK ok\r\n");
  REQUIRE(fed.units.size() == 6);
  for (int i = 0; i < 5; ++i) {
    INFO(fed.units[i].text);
    REQUIRE(fed.units[i].status.empty());
    REQUIRE(has_violation(fed.units[i], "not a POP3 status line"));
  }
  REQUIRE(fed.units[0].text == "hello");
  REQUIRE(fed.units[1].text == "+OKAY");
  REQUIRE(fed.units[5].status == "+OK");
  REQUIRE(fed.units[5].violations.empty());
}

TEST_CASE("pop3: a block after want_block()", "[framing][pop3]") {
  std::string input = "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n+OK bye\r\n";
  auto fed = same_for_every_split(pop3_framer(), input, want_before({0}));
  REQUIRE(fed.units.size() == 2);
  const Unit& u = fed.units[0];
  REQUIRE(u.status == "+OK");
  REQUIRE(u.text == "+OK 2 messages (320 octets)");
  REQUIRE(u.lines == Lines{"1 120", "2 200"});
  REQUIRE(u.raw == "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n");
  REQUIRE(u.violations.empty());
  // The want is used up: the next +OK is a single line.
  REQUIRE(fed.units[1].text == "+OK bye");
  REQUIRE(fed.units[1].lines.empty());
  REQUIRE(raw_of(fed.units) == input);
}

TEST_CASE("pop3: without want_block() the block lines are separate units", "[framing][pop3]") {
  auto fed = same_for_every_split(pop3_framer(), "+OK\r\n1 120\r\n.\r\n");
  REQUIRE(fed.units.size() == 3);
  REQUIRE(fed.units[0].lines.empty());
  REQUIRE(fed.units[1].status.empty());
  REQUIRE(fed.units[2].text == ".");
}

TEST_CASE("pop3: an empty block", "[framing][pop3]") {
  auto fed = same_for_every_split(pop3_framer(), "+OK 0 messages\r\n.\r\n", want_before({0}));
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].lines.empty());
  REQUIRE(fed.units[0].raw == "+OK 0 messages\r\n.\r\n");
}

TEST_CASE("pop3: dot-unstuffing", "[framing][pop3]") {
  std::string input =
      "+OK message follows\r\n"
      "Subject: dots\r\n"
      "\r\n"
      "..\r\n"
      "...\r\n"
      "..leading dot\r\n"
      "middle . dot\r\n"
      " .\r\n"
      ".\r\n";
  auto fed = same_for_every_split(pop3_framer(), input, want_before({0}));
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].lines ==
          Lines{"Subject: dots", "", ".", "..", ".leading dot", "middle . dot", " ."});
  REQUIRE(fed.units[0].violations.empty());
  REQUIRE(fed.units[0].raw == input);
}

TEST_CASE("pop3: a block line with an unstuffed leading dot is unstuffed and noted",
          "[framing][pop3]") {
  auto fed = same_for_every_split(pop3_framer(), "+OK\r\n.x\r\n. \r\n.\r\n", want_before({0}));
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].lines == Lines{"x", " "});
  REQUIRE(has_violation(fed.units[0], "unstuffed"));
}

TEST_CASE("pop3: -ERR has no block and clears the want", "[framing][pop3]") {
  auto fed = same_for_every_split(pop3_framer(), "-ERR no such message\r\n+OK later\r\n.\r\n",
                                  want_before({0}));
  REQUIRE(fed.units.size() == 3);
  REQUIRE(fed.units[0].status == "-ERR");
  REQUIRE(fed.units[0].lines.empty());
  REQUIRE(fed.units[1].status == "+OK");
  REQUIRE(fed.units[1].lines.empty());
  REQUIRE(fed.units[2].text == ".");
}

TEST_CASE("pop3: a stray line before the +OK keeps the want", "[framing][pop3]") {
  auto fed = same_for_every_split(pop3_framer(), "junk\r\n+OK\r\na\r\n.\r\n", want_before({0}));
  REQUIRE(fed.units.size() == 2);
  REQUIRE(fed.units[0].status.empty());
  REQUIRE(fed.units[1].lines == Lines{"a"});
}

TEST_CASE("pop3: two blocks in a row", "[framing][pop3]") {
  std::string input = "+OK\r\n1 a\r\n.\r\n+OK\r\n..b\r\n.\r\n";
  auto fed = same_for_every_split(pop3_framer(), input, want_before({0, 1}));
  REQUIRE(fed.units.size() == 2);
  REQUIRE(fed.units[0].lines == Lines{"1 a"});
  REQUIRE(fed.units[1].lines == Lines{".b"});
}

TEST_CASE("pop3: missing terminator across reads", "[framing][pop3]") {
  auto f = make_pop3_framer({});
  f->want_block();
  InputBuffer in;
  Unit u;
  std::string error;
  in.append("+OK\r\nline one\r\n");
  REQUIRE(f->next(in, u, error) == Status::need_more);
  in.append("line two\r\n.");
  REQUIRE(f->next(in, u, error) == Status::need_more);
  in.append("\r");
  REQUIRE(f->next(in, u, error) == Status::need_more);
  in.append("\n+OK");
  REQUIRE(f->next(in, u, error) == Status::unit);
  REQUIRE(u.lines == Lines{"line one", "line two"});
  REQUIRE(in.view() == "+OK");
}

TEST_CASE("pop3: take_partial in a block keeps the want", "[framing][pop3]") {
  auto f = make_pop3_framer({});
  f->want_block();
  InputBuffer in;
  Unit u;
  std::string error;
  in.append("+OK\r\na\r\n..b");
  REQUIRE(f->next(in, u, error) == Status::need_more);
  std::string partial = f->take_partial();
  REQUIRE(partial == "+OK\r\na\r\n");
  in.unread(partial);
  in.append("\r\n.\r\n");
  REQUIRE(f->next(in, u, error) == Status::unit);
  REQUIRE(u.lines == Lines{"a", ".b"});
  REQUIRE(u.raw == "+OK\r\na\r\n..b\r\n.\r\n");
}

TEST_CASE("pop3: take_partial before the status line keeps the want", "[framing][pop3]") {
  auto f = make_pop3_framer({});
  f->want_block();
  InputBuffer in;
  Unit u;
  std::string error;
  in.append("+O");
  REQUIRE(f->next(in, u, error) == Status::need_more);
  REQUIRE(f->take_partial().empty());
  in.append("K\r\nx\r\n.\r\n");
  REQUIRE(f->next(in, u, error) == Status::unit);
  REQUIRE(u.lines == Lines{"x"});
}

TEST_CASE("pop3: bare LF is tolerated and noted", "[framing][pop3]") {
  auto fed = same_for_every_split(pop3_framer(), "+OK\na\r\nb\n.\n+OK x\n", want_before({0}));
  REQUIRE(fed.units.size() == 2);
  REQUIRE(fed.units[0].lines == Lines{"a", "b"});
  REQUIRE(fed.units[0].violations == Lines{"line ended in a bare LF, not CRLF"});
  REQUIRE(has_violation(fed.units[1], "bare LF"));
  REQUIRE(fed.units[1].status == "+OK");
}

TEST_CASE("pop3: NUL bytes inside lines", "[framing][pop3]") {
  std::string input = "+OK \0\r\na\0b\r\n.\0\r\n.\r\n"s;
  auto fed = same_for_every_split(pop3_framer(), input, want_before({0}));
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].text == "+OK \0"s);
  REQUIRE(fed.units[0].lines == Lines{"a\0b"s, "\0"s});
  REQUIRE(fed.units[0].raw == input);
}

TEST_CASE("pop3: limits", "[framing][pop3]") {
  SECTION("oversize status line") {
    auto fed = same_for_every_split(pop3_framer(small_limits(10, 1000, 100)),
                                    "+OK fine\r\n+OK this is too long\r\n");
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.error.find("line longer than 10 bytes") != std::string::npos);
  }
  SECTION("oversize block line") {
    auto fed = same_for_every_split(pop3_framer(small_limits(10, 1000, 100)),
                                    "+OK\r\nshort\r\nthis is too long\r\n.\r\n", want_before({0}));
    REQUIRE(fed.units.empty());
    REQUIRE(fed.error.find("line longer than 10 bytes") != std::string::npos);
  }
  SECTION("oversize block") {
    auto fed = same_for_every_split(pop3_framer(small_limits(100, 20, 100)),
                                    "+OK\r\n0123456789\r\n0123456789\r\n.\r\n", want_before({0}));
    REQUIRE(fed.units.empty());
    REQUIRE(fed.error == "response larger than 20 bytes");
  }
  SECTION("a block of exactly max_unit bytes") {
    auto fed = same_for_every_split(pop3_framer(small_limits(100, 20, 100)),
                                    "+OK\r\n0123456789\r\n.\r\n", want_before({0}));
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.units[0].raw.size() == 20);
  }
  SECTION("too many block lines") {
    auto fed = same_for_every_split(pop3_framer(small_limits(100, 1000, 2)),
                                    "+OK\r\na\r\nb\r\n.\r\n+OK\r\na\r\nb\r\nc\r\n.\r\n",
                                    want_before({0, 1}));
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.error == "block of more than 2 lines");
  }
  SECTION("reset() after an error forgets the block and the want") {
    auto f = make_pop3_framer(small_limits(100, 1000, 1));
    f->want_block();
    InputBuffer in;
    Unit u;
    std::string error;
    in.append("+OK\r\na\r\nb\r\n");
    REQUIRE(f->next(in, u, error) == Status::error);
    f->reset();
    in.consume(in.size());
    in.append("+OK done\r\n");
    REQUIRE(f->next(in, u, error) == Status::unit);
    REQUIRE(u.raw == "+OK done\r\n");
    REQUIRE(u.lines.empty());
  }
}

TEST_CASE("pop3: a large block in 16 KB reads is framed in linear time", "[framing][pop3]") {
  // 32 MB: a framer that rescans its buffer on each read would take minutes here.
  const std::string line = std::string(70, 'x') + "\r\n";
  const std::size_t count = 32 * 1024 * 1024 / line.size();
  std::string input = "+OK message follows\r\n";
  input.reserve(count * line.size() + 64);
  for (std::size_t i = 0; i < count; ++i) input += line;
  input += ".\r\n";
  Limits limits;
  limits.max_lines = count + 1;
  auto f = make_pop3_framer(limits);
  f->want_block();
  InputBuffer in;
  Unit u;
  std::string error;
  auto started = std::chrono::steady_clock::now();
  Status status = Status::need_more;
  for (std::size_t pos = 0; pos < input.size(); pos += 16 * 1024) {
    in.append(std::string_view(input).substr(pos, 16 * 1024));
    status = f->next(in, u, error);
    if (status != Status::need_more) break;
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  REQUIRE(status == Status::unit);
  REQUIRE(u.lines.size() == count);
  REQUIRE(u.raw.size() == input.size());
  REQUIRE(seconds < 20);
}
