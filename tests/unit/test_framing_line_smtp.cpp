// InputBuffer, take_line, the line framer and the SMTP reply framer.
#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "framing/framers.hpp"
#include "test_framing_helpers.hpp"

using namespace parley::framing;
using namespace parley::framing::testing;
using namespace std::string_literals;

namespace {

MakeFramer line_framer(Limits limits = {}) {
  return [limits] { return make_line_framer(limits); };
}

MakeFramer smtp_framer(Limits limits = {}) {
  return [limits] { return make_smtp_framer(limits); };
}

bool has_violation(const Unit& u, std::string_view part) {
  for (const auto& v : u.violations) {
    if (v.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

//---------------------------------------------------------------------------------------------
// InputBuffer and take_line

TEST_CASE("InputBuffer appends, consumes and takes everything", "[framing][buffer]") {
  InputBuffer in;
  REQUIRE(in.empty());
  in.append("hello ");
  in.append("world");
  REQUIRE(in.view() == "hello world");
  in.consume(6);
  REQUIRE(in.view() == "world");
  REQUIRE(in.size() == 5);
  in.consume(100);  // more than there is
  REQUIRE(in.empty());
  in.append("again");
  REQUIRE(in.view() == "again");
  REQUIRE(in.take_all() == "again");
  REQUIRE(in.empty());
}

TEST_CASE("InputBuffer keeps its content across compaction", "[framing][buffer]") {
  InputBuffer in;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string piece = std::to_string(i) + ",";
    in.append(piece);
    expected += piece;
    std::size_t drop = (i % 3 == 0) ? std::min<std::size_t>(expected.size(), 4) : 0;
    in.consume(drop);
    expected.erase(0, drop);
    REQUIRE(in.view() == expected);
  }
}

TEST_CASE("InputBuffer::find_lf finds line ends and resumes", "[framing][buffer]") {
  InputBuffer in;
  in.append("abc");
  REQUIRE(in.find_lf() == std::string_view::npos);
  in.append("def\nghi\n");
  REQUIRE(in.find_lf() == 6);
  REQUIRE(in.find_lf(7) == 10);
  in.consume(7);
  REQUIRE(in.find_lf() == 3);
}

TEST_CASE("InputBuffer::find_lf after a search from an offset and a short consume",
          "[framing][buffer]") {
  // A search from offset 2 found nothing; consuming 1 byte must not hide the '\n' at 0.
  InputBuffer in;
  in.append("a\nbcdefgh");
  REQUIRE(in.find_lf(2) == std::string_view::npos);
  in.consume(1);
  REQUIRE(in.find_lf(0) == 0);
  REQUIRE(in.find_lf(1) == std::string_view::npos);
  in.append("x\n");
  REQUIRE(in.find_lf(1) == 9);
  REQUIRE(in.find_lf(0) == 0);
}

TEST_CASE("InputBuffer::find_lf with mixed offsets matches a plain search", "[framing][buffer]") {
  // A deterministic walk of appends, consumes and searches from varying offsets.
  InputBuffer in;
  std::string model;
  unsigned seed = 12345;
  auto rnd = [&](unsigned n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) % n;
  };
  for (int step = 0; step < 20000; ++step) {
    switch (rnd(3)) {
      case 0: {
        std::string piece(rnd(6), 'x');
        if (rnd(4) == 0) piece += '\n';
        in.append(piece);
        model += piece;
        break;
      }
      case 1: {
        std::size_t n = rnd(static_cast<unsigned>(model.size()) + 1);
        in.consume(n);
        model.erase(0, n);
        break;
      }
      default: {
        std::size_t from = rnd(static_cast<unsigned>(model.size()) + 2);
        std::size_t want = from <= model.size() ? model.find('\n', from) : std::string::npos;
        INFO("step " << step << " from " << from << " buffer [" << model << "]");
        REQUIRE(in.find_lf(from) == want);
      }
    }
    REQUIRE(in.view() == model);
  }
}

TEST_CASE("InputBuffer::unread puts bytes back in front", "[framing][buffer]") {
  InputBuffer in;
  in.append("one\ntwo");
  REQUIRE(in.find_lf() == 3);
  in.consume(4);
  REQUIRE(in.find_lf() == std::string_view::npos);
  in.unread("one\n");
  REQUIRE(in.view() == "one\ntwo");
  REQUIRE(in.find_lf() == 3);
  in.unread("");
  REQUIRE(in.view() == "one\ntwo");
  in.append("\n");
  in.consume(4);
  REQUIRE(in.find_lf() == 3);
}

TEST_CASE("InputBuffer::prepare and commit read into the tail", "[framing][buffer]") {
  InputBuffer in;
  in.append("head ");
  char* room = in.prepare(100);
  std::memcpy(room, "tail\nrest", 10);
  in.commit(5);  // only "tail\n" came
  REQUIRE(in.view() == "head tail\n");
  REQUIRE(in.find_lf() == 9);
  in.consume(10);
  REQUIRE(in.empty());
  // After a consume, prepare may compact; what is unread stays.
  in.append("abcdef");
  in.consume(4);
  room = in.prepare(3);
  std::memcpy(room, "xyz", 3);
  in.commit(3);
  REQUIRE(in.view() == "efxyz");
  in.prepare(8);
  in.commit(0);
  REQUIRE(in.view() == "efxyz");
}

TEST_CASE("take_line splits CRLF and bare LF lines", "[framing][line]") {
  Limits limits;
  InputBuffer in;
  std::string error;
  bool bare = true;
  in.append("one\r\ntwo\nthree");
  auto a = take_line(in, limits, bare, error);
  REQUIRE(a == "one");
  REQUIRE_FALSE(bare);
  auto b = take_line(in, limits, bare, error);
  REQUIRE(b == "two");
  REQUIRE(bare);
  REQUIRE_FALSE(take_line(in, limits, bare, error));
  REQUIRE(error.empty());
  REQUIRE(in.view() == "three");
}

TEST_CASE("take_line enforces max_line with and without a line end", "[framing][line]") {
  Limits limits = small_limits(5, 1000, 100);
  bool bare = false;
  SECTION("exactly max_line is fine") {
    InputBuffer in;
    std::string error;
    in.append("12345\r\n");
    REQUIRE(take_line(in, limits, bare, error) == "12345");
  }
  SECTION("max_line plus CR, LF still to come, is not an error yet") {
    InputBuffer in;
    std::string error;
    in.append("12345\r");
    REQUIRE_FALSE(take_line(in, limits, bare, error));
    REQUIRE(error.empty());
    in.append("\n");
    REQUIRE(take_line(in, limits, bare, error) == "12345");
  }
  SECTION("one byte too many with its line end") {
    InputBuffer in;
    std::string error;
    in.append("123456\r\n");
    REQUIRE_FALSE(take_line(in, limits, bare, error));
    REQUIRE(error.find("line longer than 5 bytes") != std::string::npos);
    REQUIRE(in.size() == 8);  // nothing consumed
  }
  SECTION("too long without a line end") {
    InputBuffer in;
    std::string error;
    in.append("1234567");
    REQUIRE_FALSE(take_line(in, limits, bare, error));
    REQUIRE(error.find("line longer than 5 bytes") != std::string::npos);
  }
  SECTION("a huge max_line does not wrap around") {
    Limits huge = small_limits(static_cast<std::size_t>(-1), 1000, 100);
    InputBuffer in;
    std::string error;
    in.append("abc");
    REQUIRE_FALSE(take_line(in, huge, bare, error));
    REQUIRE(error.empty());
  }
}

//---------------------------------------------------------------------------------------------
// The line framer

TEST_CASE("line framer: whole input, CRLF and bare LF", "[framing][line]") {
  auto fed = same_for_every_split(line_framer(), "hello\r\nworld\n\r\nlast");
  REQUIRE(fed.units.size() == 3);
  REQUIRE(fed.units[0].text == "hello");
  REQUIRE(fed.units[0].lines == std::vector<std::string>{"hello"});
  REQUIRE(fed.units[0].raw == "hello\r\n");
  REQUIRE(fed.units[0].violations.empty());
  REQUIRE_FALSE(fed.units[0].code);
  REQUIRE(fed.units[1].text == "world");
  REQUIRE(fed.units[1].raw == "world\n");
  REQUIRE(has_violation(fed.units[1], "bare LF"));
  REQUIRE(fed.units[2].text.empty());
  REQUIRE(fed.units[2].raw == "\r\n");
  REQUIRE(fed.left == 4);  // "last" waits for its line end
}

TEST_CASE("line framer: a single line consumed whole keeps its first byte", "[framing][line]") {
  // Regression: consuming the whole buffer used to clear it before raw was copied.
  auto f = make_line_framer({});
  auto fed = feed_whole(*f, "220 ready\r\n");
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].raw == "220 ready\r\n");
}

TEST_CASE("line framer: NUL bytes and CR inside a line", "[framing][line]") {
  std::string input = "a\0b\rc\r\n\0\n"s;
  auto fed = same_for_every_split(line_framer(), input);
  REQUIRE(fed.units.size() == 2);
  REQUIRE(fed.units[0].text == "a\0b\rc"s);
  REQUIRE(fed.units[1].text == "\0"s);
  REQUIRE(raw_of(fed.units) == input);
}

TEST_CASE("line framer: oversize line is an error, also when it trickles in", "[framing][line]") {
  Limits limits = small_limits(8, 1000, 100);
  auto fed = same_for_every_split(line_framer(limits), "short\r\nmuch too long\r\nnext\r\n");
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].text == "short");
  REQUIRE(fed.error.find("line longer than 8 bytes") != std::string::npos);
}

TEST_CASE("line framer: a stale error string does not turn need_more into an error",
          "[framing][line]") {
  auto f = make_line_framer({});
  InputBuffer in;
  in.append("partial");
  Unit u;
  std::string error = "left over";
  REQUIRE(f->next(in, u, error) == Status::need_more);
}

//---------------------------------------------------------------------------------------------
// SMTP line grammar

TEST_CASE("parse_smtp_line", "[framing][smtp]") {
  auto last = parse_smtp_line("250 OK");
  REQUIRE(last);
  REQUIRE(last->code == 250);
  REQUIRE_FALSE(last->more);
  REQUIRE(last->text == "OK");
  auto more = parse_smtp_line("250-PIPELINING");
  REQUIRE(more);
  REQUIRE(more->more);
  REQUIRE(more->text == "PIPELINING");
  auto bare = parse_smtp_line("354");
  REQUIRE(bare);
  REQUIRE(bare->code == 354);
  REQUIRE(bare->text.empty());
  auto dash = parse_smtp_line("250-");
  REQUIRE(dash);
  REQUIRE(dash->more);
  REQUIRE(dash->text.empty());
  REQUIRE(parse_smtp_line("000 zero")->code == 0);
  REQUIRE(parse_smtp_line("999 nine")->code == 999);
  REQUIRE_FALSE(parse_smtp_line(""));
  REQUIRE_FALSE(parse_smtp_line("25"));
  REQUIRE_FALSE(parse_smtp_line("25 OK"));
  REQUIRE_FALSE(parse_smtp_line("2x0 OK"));
  REQUIRE_FALSE(parse_smtp_line("abc OK"));
  REQUIRE_FALSE(parse_smtp_line("2500 OK"));
  REQUIRE_FALSE(parse_smtp_line("250_OK"));
  REQUIRE_FALSE(parse_smtp_line(" 250 OK"));
}

TEST_CASE("parse_enhanced", "[framing][smtp]") {
  REQUIRE(parse_enhanced("2.0.0") == "2.0.0");
  REQUIRE(parse_enhanced("5.7.1 relay denied") == "5.7.1");
  REQUIRE(parse_enhanced("4.999.999 x") == "4.999.999");
  REQUIRE(parse_enhanced("5.1.10 x") == "5.1.10");
  REQUIRE(parse_enhanced("").empty());
  REQUIRE(parse_enhanced("3.0.0 x").empty());  // class must be 2, 4 or 5
  REQUIRE(parse_enhanced("5.1234.1 x").empty());
  REQUIRE(parse_enhanced("5.1.1234 x").empty());
  REQUIRE(parse_enhanced("5.1").empty());
  REQUIRE(parse_enhanced("5.1.").empty());
  REQUIRE(parse_enhanced("5..1").empty());
  REQUIRE(parse_enhanced("5.1.1x").empty());
  REQUIRE(parse_enhanced("5.1.1.").empty());
  REQUIRE(parse_enhanced("55.1.1").empty());
  REQUIRE(parse_enhanced("OK 5.1.1").empty());
  REQUIRE(parse_enhanced("5").empty());
}

//---------------------------------------------------------------------------------------------
// The SMTP framer

TEST_CASE("smtp: a one-line reply", "[framing][smtp]") {
  auto fed = same_for_every_split(smtp_framer(), "220 mail.example ESMTP\r\n");
  REQUIRE(fed.units.size() == 1);
  const Unit& u = fed.units[0];
  REQUIRE(u.code == 220);
  REQUIRE(u.text == "mail.example ESMTP");
  REQUIRE(u.lines == std::vector<std::string>{"mail.example ESMTP"});
  REQUIRE(u.enhanced.empty());
  REQUIRE(u.raw == "220 mail.example ESMTP\r\n");
  REQUIRE(u.violations.empty());
  REQUIRE(fed.left == 0);
}

TEST_CASE("smtp: a multi-line reply and the next reply", "[framing][smtp]") {
  std::string input =
      "250-mail.example greets you\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n"
      "354\r\n221 2.0.0 bye\r\n";
  auto fed = same_for_every_split(smtp_framer(), input);
  REQUIRE(fed.units.size() == 3);
  REQUIRE(fed.units[0].code == 250);
  REQUIRE(fed.units[0].lines.size() == 4);
  REQUIRE(fed.units[0].lines[3] == "STARTTLS");
  REQUIRE(fed.units[0].text == "mail.example greets you\nPIPELINING\nSIZE 1000\nSTARTTLS");
  REQUIRE(fed.units[1].code == 354);
  REQUIRE(fed.units[1].text.empty());
  REQUIRE(fed.units[2].code == 221);
  REQUIRE(fed.units[2].enhanced == "2.0.0");
  REQUIRE(raw_of(fed.units) == input);
  for (const auto& u : fed.units) REQUIRE(u.violations.empty());
}

// The framer takes lines as views of the buffer and makes room for a reply that goes on at its
// first line (8 lines, the bytes buffered up to 4 KB): past that room, with lines too long for
// a string's own buffer, and with the next reply buffered behind it, every byte still lands
// where it belongs, for every split of the input.
TEST_CASE("smtp: a reply of more lines than it made room for", "[framing][smtp]") {
  std::string input;
  std::vector<std::string> lines;
  for (int i = 0; i < 12; ++i) {
    lines.push_back("capability-number-" + std::to_string(i) + " with an argument");
    input += "250" + std::string(i < 11 ? "-" : " ") + lines.back() + "\r\n";
  }
  std::string first = input;
  input += "221 2.0.0 bye\r\n";
  auto fed = same_for_every_split(smtp_framer(), input);
  REQUIRE(fed.units.size() == 2);
  REQUIRE(fed.units[0].lines == lines);
  std::string text;
  for (const auto& l : lines) text += (text.empty() ? "" : "\n") + l;
  REQUIRE(fed.units[0].text == text);
  REQUIRE(fed.units[0].raw == first);
  REQUIRE(fed.units[1].raw == "221 2.0.0 bye\r\n");
  REQUIRE(fed.units[1].lines == std::vector<std::string>{"2.0.0 bye"});
  for (const auto& u : fed.units) REQUIRE(u.violations.empty());
}

TEST_CASE("smtp: a reply waits for its last line", "[framing][smtp]") {
  auto f = make_smtp_framer({});
  InputBuffer in;
  Unit u;
  std::string error;
  in.append("250-a\r\n250-b\r\n");
  REQUIRE(f->next(in, u, error) == Status::need_more);
  in.append("250 c");
  REQUIRE(f->next(in, u, error) == Status::need_more);
  in.append("\r\n");
  REQUIRE(f->next(in, u, error) == Status::unit);
  REQUIRE(u.lines == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(u.raw == "250-a\r\n250-b\r\n250 c\r\n");
}

TEST_CASE("smtp: lines without a valid code", "[framing][smtp]") {
  std::string input = "25 two digits\r\n2x0 letter\r\nhello\r\n\r\n220 ok\r\n";
  auto fed = same_for_every_split(smtp_framer(), input);
  REQUIRE(fed.units.size() == 5);
  for (int i = 0; i < 4; ++i) REQUIRE_FALSE(fed.units[i].code);
  REQUIRE(fed.units[0].text == "25 two digits");
  REQUIRE(fed.units[0].lines == std::vector<std::string>{"25 two digits"});
  REQUIRE(fed.units[1].text == "2x0 letter");
  REQUIRE(fed.units[2].text == "hello");
  REQUIRE(fed.units[3].text.empty());
  REQUIRE(fed.units[4].code == 220);
}

TEST_CASE("smtp: mixed codes in a multi-line reply", "[framing][smtp]") {
  SECTION("a last line with another code ends the reply") {
    auto fed = same_for_every_split(smtp_framer(), "250-first\r\n251 second\r\n220 next\r\n");
    REQUIRE(fed.units.size() == 2);
    REQUIRE(fed.units[0].code == 250);
    REQUIRE(fed.units[0].lines == std::vector<std::string>{"first", "second"});
    REQUIRE(has_violation(fed.units[0], "codes differ"));
    REQUIRE(fed.units[1].code == 220);
    REQUIRE(fed.units[1].violations.empty());
  }
  SECTION("a continuation with another code continues, noted once") {
    auto fed = same_for_every_split(smtp_framer(), "250-a\r\n251-b\r\n251-c\r\n250 d\r\n");
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.units[0].lines.size() == 4);
    REQUIRE(fed.units[0].violations.size() == 1);
  }
}

TEST_CASE("smtp: continuation without a code", "[framing][smtp]") {
  auto fed = same_for_every_split(smtp_framer(), "250-a\r\nstray text\r\n250 b\r\n");
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].code == 250);
  REQUIRE(fed.units[0].lines == std::vector<std::string>{"a", "stray text", "b"});
  REQUIRE(has_violation(fed.units[0], "without a reply code"));
}

TEST_CASE("smtp: many odd lines in one reply are noted once, in linear time", "[framing][smtp]") {
  // Regression: each distinct note used to be searched for among all earlier ones, so a reply
  // of 100000 uncoded lines took seconds.
  std::string input = "250-first\r\n";
  for (int i = 0; i < 50000; ++i) {
    input += "odd " + std::to_string(i) + "\r\n";
    input += std::to_string(300 + i % 600) + "-x\r\n";
  }
  input += "250 last\r\n";
  auto f = make_smtp_framer(small_limits(100, 10 * 1024 * 1024, 200000));
  auto fed = feed(*f, input, {input.size() / 3, input.size() / 2});
  REQUIRE(fed.error.empty());
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].lines.size() == 100002);
  REQUIRE(fed.units[0].violations ==
          std::vector<std::string>{"continuation line without a reply code: odd 0",
                                   "reply codes differ within one reply (250 and 300)"});
}

TEST_CASE("smtp: enhanced status codes", "[framing][smtp]") {
  SECTION("extracted from the first line") {
    auto fed = same_for_every_split(smtp_framer(), "550-5.1.1 no such user\r\n550 5.1.1 sorry\r\n");
    REQUIRE(fed.units[0].enhanced == "5.1.1");
    REQUIRE(fed.units[0].lines[0] == "5.1.1 no such user");
    REQUIRE(fed.units[0].violations.empty());
  }
  SECTION("only the first line counts") {
    auto fed = same_for_every_split(smtp_framer(), "250-hello\r\n250 2.0.0 ok\r\n");
    REQUIRE(fed.units[0].enhanced.empty());
  }
  SECTION("class differing from the reply code is noted") {
    auto fed = same_for_every_split(smtp_framer(), "250 5.7.1 odd\r\n");
    REQUIRE(fed.units[0].enhanced == "5.7.1");
    REQUIRE(has_violation(fed.units[0], "another class"));
  }
  SECTION("not an enhanced code") {
    auto fed = same_for_every_split(smtp_framer(), "250 2.0 ok\r\n550 5.1.1x\r\n");
    REQUIRE(fed.units[0].enhanced.empty());
    REQUIRE(fed.units[1].enhanced.empty());
  }
}

TEST_CASE("smtp: bare LF is tolerated and noted once per reply", "[framing][smtp]") {
  auto fed = same_for_every_split(smtp_framer(), "250-a\n250-b\n250 c\r\n220 d\r\n");
  REQUIRE(fed.units.size() == 2);
  REQUIRE(fed.units[0].lines == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(fed.units[0].violations == std::vector<std::string>{"line ended in a bare LF, not CRLF"});
  REQUIRE(fed.units[1].violations.empty());
}

TEST_CASE("smtp: NUL bytes inside lines", "[framing][smtp]") {
  std::string input = "250-a\0b\r\n250 \0\r\n"s;
  auto fed = same_for_every_split(smtp_framer(), input);
  REQUIRE(fed.units.size() == 1);
  REQUIRE(fed.units[0].lines == std::vector<std::string>{"a\0b"s, "\0"s});
  REQUIRE(fed.units[0].raw == input);
}

TEST_CASE("smtp: limits", "[framing][smtp]") {
  SECTION("oversize line") {
    auto fed = same_for_every_split(smtp_framer(small_limits(10, 1000, 100)),
                                    "250 short\r\n250-this line is too long\r\n");
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.error.find("line longer than 10 bytes") != std::string::npos);
  }
  SECTION("oversize reply") {
    auto fed = same_for_every_split(smtp_framer(small_limits(100, 30, 100)),
                                    "250 ok\r\n250-0123456789\r\n250-0123456789\r\n250 x\r\n");
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.error == "reply larger than 30 bytes");
  }
  SECTION("too many lines") {
    auto fed =
        same_for_every_split(smtp_framer(small_limits(100, 1000, 3)),
                             "250-a\r\n250-b\r\n250 c\r\n250-a\r\n250-b\r\n250-c\r\n250 d\r\n");
    REQUIRE(fed.units.size() == 1);
    REQUIRE(fed.error == "reply of more than 3 lines");
  }
  SECTION("after an error and reset() the framer starts afresh") {
    auto f = make_smtp_framer(small_limits(100, 1000, 2));
    InputBuffer in;
    Unit u;
    std::string error;
    in.append("250-a\r\n250-b\r\n250-c\r\n");
    REQUIRE(f->next(in, u, error) == Status::error);
    f->reset();
    in.consume(in.size());
    in.append("220 fresh\r\n");
    REQUIRE(f->next(in, u, error) == Status::unit);
    REQUIRE(u.code == 220);
    REQUIRE(u.raw == "220 fresh\r\n");
  }
}

TEST_CASE("smtp: take_partial gives back a reply's first lines", "[framing][smtp]") {
  auto f = make_smtp_framer({});
  InputBuffer in;
  Unit u;
  std::string error;
  in.append("250-a\n250-b");
  REQUIRE(f->next(in, u, error) == Status::need_more);
  REQUIRE(in.view() == "250-b");
  std::string partial = f->take_partial();
  REQUIRE(partial == "250-a\n");
  REQUIRE(f->take_partial().empty());
  in.unread(partial);
  REQUIRE(in.view() == "250-a\n250-b");
  in.append("\r\n250 c\r\n");
  REQUIRE(f->next(in, u, error) == Status::unit);
  REQUIRE(u.lines == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(u.raw == "250-a\n250-b\r\n250 c\r\n");
  REQUIRE(u.violations.size() == 1);  // the bare LF, noted once
}

TEST_CASE("line framer: take_partial has nothing to give back", "[framing][line]") {
  auto f = make_line_framer({});
  InputBuffer in;
  Unit u;
  std::string error;
  in.append("partial");
  REQUIRE(f->next(in, u, error) == Status::need_more);
  REQUIRE(f->take_partial().empty());
  REQUIRE(in.view() == "partial");
}

TEST_CASE("make_framer picks framers by name", "[framing]") {
  for (const char* name : {"line", "smtp", "pop3", "imap"}) {
    INFO(name);
    REQUIRE(make_framer(name, {}) != nullptr);
  }
  REQUIRE(make_framer("http", {}) == nullptr);
}
