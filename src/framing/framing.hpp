// Framing: turns received bytes into protocol units (lines, SMTP replies, POP3 responses,
// IMAP responses). Pure C++ over byte buffers, no I/O, so it can be unit-tested and fuzzed.
//
// A framer is fed an InputBuffer that grows as bytes arrive. next() either produces one unit
// (and consumes its bytes from the buffer), asks for more bytes, or reports a framing error
// (a limit exceeded, a malformed literal). Framers keep state between calls so that a unit
// that arrives in many small reads is scanned once, not once per read.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::framing {

/// Bounds that keep a hostile or broken peer from making us buffer without end.
struct Limits {
  std::size_t max_line = 64 * 1024;         ///< one line, CRLF excluded
  std::size_t max_unit = 64 * 1024 * 1024;  ///< one whole unit (reply, block, response)
  std::size_t max_lines = 100000;           ///< lines in one multi-line unit
};

/// Bytes held in one block from malloc with `head` free bytes before them and one after: the
/// header and terminator of a Lua string, so that the script engine can give the block to Lua
/// as a string instead of copying the bytes into a new one (Engine::push_block). For literals
/// of many megabytes, where every copy is also that many fresh pages to fault in.
class Block {
 public:
  Block() = default;
  explicit Block(std::size_t head) : head_(head) {}
  Block(const Block& other);
  Block& operator=(const Block& other);
  Block(Block&& other) noexcept;
  Block& operator=(Block&& other) noexcept;
  ~Block();

  /// Room for `n` bytes in all (one realloc, not a doubling series; huge pages when big).
  void reserve(std::size_t n);
  void append(std::string_view bytes);
  bool allocated() const { return base_ != nullptr; }
  std::string_view view() const { return {base_ == nullptr ? "" : base_ + head_, size_}; }
  std::size_t size() const { return size_; }
  std::size_t head() const { return head_; }
  /// Gives up the block, trimmed to head() + size() + 1 bytes (nullptr when none): the caller
  /// owns it and frees it with free().
  char* release();
  /// Takes over `base` (from malloc, head + capacity + 1 bytes) holding `size` bytes at head.
  static Block adopt(char* base, std::size_t head, std::size_t size, std::size_t capacity);

 private:
  char* base_ = nullptr;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;  ///< bytes after head_, the terminator's excluded
};

/// Literals from this size on go into Blocks when a consumer asks (Framer::literals_in_blocks).
constexpr std::size_t kBlockFrom = 64 * 1024;

/// Received bytes not yet consumed. Remembers how far it has searched for a line end so that a
/// line trickled in byte by byte is scanned once.
class InputBuffer {
 public:
  void append(std::string_view bytes);
  std::string_view view() const { return {data_.get() + start_, size_ - start_}; }
  std::size_t size() const { return size_ - start_; }
  bool empty() const { return size() == 0; }
  /// Drops n bytes from the front.
  void consume(std::size_t n);
  /// Position (relative to view()) of the first '\n' at or after `from`, or npos.
  /// Searching is resumed where an earlier call with the same `from` stopped.
  std::size_t find_lf(std::size_t from = 0);
  /// Moves everything out (for starttls refusal messages and close warnings).
  std::string take_all();
  /// Puts bytes back in front of the unread ones.
  void unread(std::string_view bytes);
  /// Room for `n` more bytes at the end, to read into directly; commit() says how many came.
  char* prepare(std::size_t n);
  void commit(std::size_t n);
  /// Frees the storage when nothing unread is held (an idle connection keeps no buffer).
  void release_if_empty();
  /// For a big literal: the next `n` bytes, those held and those to come, are gathered in one
  /// block with `head` free bytes before them (a Lua string's header), which reads fill in
  /// place; take_block() then hands it over without a copy. Meanwhile the buffer is neither
  /// compacted nor released; unread() ends it.
  void gather(std::size_t head, std::size_t n);
  /// Moves the first `n` bytes (size() >= n) into a Block with head `head`: the storage itself
  /// when gather(head, n) made it, else a copy. The bytes after them stay.
  Block take_block(std::size_t head, std::size_t n);

 private:
  /// Makes room for `more` bytes past size_, dropping a dominant consumed prefix first.
  void reserve_more(std::size_t more);
  /// Storage of `capacity` bytes holding `held` bytes at `offset`, the view's from now on.
  void replace_storage(std::size_t capacity, std::size_t offset, std::string_view held);

  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  // Not a std::string: growing one zero-fills the room a read is about to overwrite. From
  // malloc: gathered storage becomes a Block, and a Block is freed with free().
  std::unique_ptr<char, Free> data_;
  std::size_t size_ = 0;  ///< bytes held (consumed ones included)
  std::size_t capacity_ = 0;
  std::size_t start_ = 0;
  std::size_t scanned_ = 0;  ///< absolute offset up to which no '\n' exists (for scan_from_)
  std::size_t scan_from_ = 0;
  std::size_t prepared_ = 0;
  std::size_t gather_end_ = 0;  ///< gather(): absolute end of the bytes gathered; 0: none
};

/// One unit of a protocol, shaped for every framing. Fields that do not apply stay empty.
struct Unit {
  std::optional<int> code;            ///< SMTP: the three-digit code; nil for a line without one
  std::string status;                 ///< POP3: "+OK", "-ERR" or "+"; IMAP: the tag, "*" or "+"
  std::string enhanced;               ///< SMTP: "2.1.0" when the first line carries one
  std::string text;                   ///< SMTP coded: text after codes, lines joined by "\n";
                                      ///< otherwise the whole first line
  std::vector<std::string> lines;     ///< SMTP: each line's text; POP3 block: unstuffed lines;
                                      ///< IMAP: the line segments around literals
  std::vector<std::string> literals;  ///< IMAP: literal payloads in order (see literals_as_spans)
  /// IMAP: where each literal lies in the unit's bytes (offset, length), in order: in `raw`,
  /// or with literals_in_blocks() in whole_raw()
  std::vector<std::pair<std::size_t, std::size_t>> literal_spans;
  std::string raw;  ///< every byte of the unit as received (but see below)
  /// IMAP with literals_in_blocks(): the payload of each literal of `from` bytes or more, held
  /// in a Block as it arrives instead of in `raw` (literal_blocks[i] is literal_spans[i]'s; the
  /// small ones unallocated). Spans still count them; whole_raw() puts them back.
  std::vector<Block> literal_blocks;
  bool has_blocks() const;
  /// Every byte of the unit as received: raw with the payloads of literal_blocks put back.
  std::string whole_raw() const;
  std::size_t whole_size() const;
  std::vector<std::string> violations;  ///< grammar notes ("bare LF", "codes differ", ...)
};

enum class Status { unit, need_more, error };

class Framer {
 public:
  virtual ~Framer() = default;
  /// Tries to take one unit from the front of `in`. On Status::error `error` says what is
  /// wrong; the framer should then be reset() before it is used again.
  virtual Status next(InputBuffer& in, Unit& out, std::string& error) = 0;
  /// As next(), into `*out` (made when null); a framer that builds its unit on the heap may
  /// hand that over instead (no copy of the unit, no second allocation).
  virtual Status next_unit(InputBuffer& in, std::unique_ptr<Unit>& out, std::string& error) {
    if (!out) out = std::make_unique<Unit>();
    return next(in, *out, error);
  }
  /// Forgets any partly framed unit (the bytes stay in the buffer).
  virtual void reset() = 0;
  /// POP3: the next +OK response is followed by a dot-terminated block (LIST, RETR, ...).
  /// Other framers ignore it.
  virtual void want_block() {}
  /// Gives back the bytes of a partly framed unit and forgets it, so that a read that gave
  /// up (a timeout) loses nothing: the caller puts them back with InputBuffer::unread().
  /// What was asked with want_block() still holds.
  virtual std::string take_partial() = 0;
  /// IMAP: with `on`, literal payloads are not copied into Unit::literals (left empty): a
  /// consumer finds them in Unit::raw through Unit::literal_spans. Saves a copy (and its fresh
  /// pages) of every literal, which matters for messages of many megabytes.
  virtual void literals_as_spans(bool on) {}
  /// IMAP: as literals_as_spans(true), and besides, the payload of a literal of `from` bytes
  /// or more goes into a Block with `head` free bytes before the bytes (Unit::literal_blocks),
  /// not into Unit::raw: a consumer takes it over without a copy. The limits are the same.
  /// head 0 turns it off.
  virtual void literals_in_blocks(std::size_t head, std::size_t from = kBlockFrom) {}
};

/// "line", "smtp", "pop3", "imap"; nullptr for an unknown name.
std::unique_ptr<Framer> make_framer(std::string_view kind, const Limits& limits);

/// Asks the kernel for transparent huge pages under a big buffer about to be filled (a
/// literal of many megabytes): one page fault per 2 MB instead of one per 4 KB, which was
/// most of the time of a 50 MB FETCH. A hint: ignored where THP is off or `size` is small.
void advise_huge_pages(void* data, std::size_t size);
constexpr std::size_t kHugePagesFrom = 4u << 20;

/// Splits one line off the front of `in` (CRLF or bare LF). Returns nullopt when no full line
/// is buffered; sets `error` and returns nullopt when the line exceeds limits.max_line.
/// `bare_lf` tells whether the line ended in LF alone.
std::optional<std::string> take_line(InputBuffer& in, const Limits& limits, bool& bare_lf,
                                     std::string& error);
/// As take_line, without a copy: the line as a view of the buffer's consumed bytes, valid
/// until the next append() to `in`.
std::optional<std::string_view> take_line_view(InputBuffer& in, const Limits& limits, bool& bare_lf,
                                               std::string& error);

/// SMTP reply-line grammar: "ddd" followed by '-', ' ' or the end of the line.
/// Returns the code and whether the line continues the reply ('-').
struct SmtpLine {
  int code;
  bool more;
  std::string_view text;
};
std::optional<SmtpLine> parse_smtp_line(std::string_view line);

/// RFC 3463 enhanced status code at the start of `text` ("5.1.1 ..."), or empty.
std::string_view parse_enhanced(std::string_view text);

}  // namespace parley::framing
