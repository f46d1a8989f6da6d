// Shared driver of the framer fuzz targets. The first three input bytes choose the limits and
// how the rest is cut into reads; the rest is what the peer sends. Each input is framed twice,
// whole and in pieces, and both runs must agree unit for unit.
//
// byte 0: limits (high bit: near the defaults); byte 1: chunk sizes (bits 0-2 the largest, all bits
// seed the sizes), bit 3: the split run gives up at some waits (take_partial, unread), bit 4:
// the split run reads through prepare/commit, bit 5: literals as spans only, bit 6: literals of
// 4 bytes and more in blocks; byte 2: left to the target.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "framing/framers.hpp"

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace parley::framing::fuzz {

/// Called before each unit is framed with the number of units so far (POP3 uses it to want
/// blocks).
using Hook = std::function<void(Framer&, std::size_t)>;

struct Setup {
  Limits limits;
  std::vector<std::size_t> cuts;  ///< increasing positions in `body`
  std::uint8_t flags = 0;         ///< left to the target (POP3: which units want a block)
  bool interrupt = false;
  bool use_prepare = false;
  bool spans_only = false;
  bool blocks = false;
  std::string_view body;
};

/// Small limits most of the time, so that every limit is reached by short inputs. Otherwise the
/// defaults, but max_unit of 1 MB: the IMAP framer reserves room for an announced literal, and
/// under ASan reserving 64 MB a run costs more than the rest of it.
inline Limits limits_from(std::uint8_t b) {
  Limits l;
  if ((b & 0x80) != 0) {
    l.max_unit = 1024 * 1024;
    return l;
  }
  l.max_line = 1 + (b & 0x0f) * 5;
  l.max_unit = 16 + ((b >> 4) & 0x07) * 40;
  l.max_lines = 1 + (b & 0x07);
  return l;
}

inline std::vector<std::size_t> cuts_from(std::uint8_t b, std::size_t size) {
  static constexpr std::size_t kMaxChunk[] = {1, 2, 3, 7, 16, 64, 512, 1u << 20};
  std::size_t max_chunk = kMaxChunk[b & 7];
  std::uint32_t state = 0x9e3779b9u ^ (b * 0x01000193u);
  std::vector<std::size_t> cuts;
  for (std::size_t pos = 0;;) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    pos += 1 + state % max_chunk;
    if (pos >= size) break;
    cuts.push_back(pos);
  }
  return cuts;
}

inline bool setup_from(const std::uint8_t* data, std::size_t size, Setup& setup) {
  if (size < 3) return false;
  setup.limits = limits_from(data[0]);
  setup.flags = data[2];
  setup.body = std::string_view(reinterpret_cast<const char*>(data) + 3, size - 3);
  setup.cuts = cuts_from(data[1], setup.body.size());
  setup.interrupt = (data[1] & 0x08) != 0;
  setup.use_prepare = (data[1] & 0x10) != 0;
  setup.spans_only = (data[1] & 0x20) != 0;
  setup.blocks = (data[1] & 0x40) != 0;
  return true;
}

struct Run {
  std::vector<Unit> units;
  bool error = false;
  std::size_t consumed = 0;  ///< bytes taken from the buffer
};

inline void append(InputBuffer& in, std::string_view piece, bool use_prepare) {
  if (!use_prepare) return in.append(piece);
  char* room = in.prepare(piece.size() + 7);
  std::memcpy(room, piece.data(), piece.size());
  in.commit(piece.size());
}

/// Frames `body` cut at `cuts`. With `interrupt`, some waits for more bytes (about 32, spread
/// over the input) give the partly framed unit back (take_partial) and put it in front of the
/// buffer again (unread). Not every wait: each is followed by framing the unit from its start
/// again, which would make small reads quadratic.
inline Run frame(Framer& framer, std::string_view body, std::vector<std::size_t> cuts,
                 const Hook& hook, bool interrupt = false, bool use_prepare = false) {
  InputBuffer in;
  Run run;
  std::size_t pos = 0;
  std::size_t waits = 0;
  const std::size_t stride = 1 + cuts.size() / 32;
  if (hook) hook(framer, 0);
  cuts.push_back(body.size());
  for (std::size_t cut : cuts) {
    std::string_view piece = body.substr(pos, cut - pos);
    std::size_t held = in.size();
    append(in, piece, use_prepare);
    pos = cut;
    // Only the new bytes are compared, to keep byte-by-byte runs linear.
    FUZZ_CHECK(in.size() == held + piece.size() && in.view().ends_with(piece));
    for (;;) {
      Unit unit;
      std::string error = "stale";
      Status status = framer.next(in, unit, error);
      if (status == Status::need_more) {
        FUZZ_CHECK(error.empty());
        if (interrupt && waits++ % stride == 0) {
          std::string partial = framer.take_partial();
          FUZZ_CHECK(partial.size() <= pos - in.size());
          FUZZ_CHECK(body.substr(pos - in.size() - partial.size(), partial.size()) == partial);
          in.unread(partial);
        }
        break;
      }
      if (status == Status::error) {
        FUZZ_CHECK(!error.empty());
        run.error = true;
        run.consumed = pos - in.size();
        return run;
      }
      FUZZ_CHECK(error.empty());
      run.units.push_back(std::move(unit));
      if (hook) hook(framer, run.units.size());
    }
  }
  run.consumed = body.size() - in.size();
  return run;
}

inline bool same_unit(const Unit& a, const Unit& b) {
  return a.code == b.code && a.status == b.status && a.enhanced == b.enhanced && a.text == b.text &&
         a.lines == b.lines && a.literals == b.literals && a.literal_spans == b.literal_spans &&
         a.raw == b.raw && a.violations == b.violations &&
         a.literal_blocks.size() == b.literal_blocks.size() &&
         std::equal(a.literal_blocks.begin(), a.literal_blocks.end(), b.literal_blocks.begin(),
                    [](const Block& x, const Block& y) {
                      return x.allocated() == y.allocated() && x.view() == y.view();
                    });
}

/// Checks that hold for every framer, then hands each unit to `check_unit`.
inline void run_target(const std::uint8_t* data, std::size_t size,
                       const std::function<std::unique_ptr<Framer>(const Limits&)>& make,
                       const std::function<Hook(const Setup&)>& make_hook,
                       const std::function<void(const Setup&, const Unit&)>& check_unit) {
  Setup setup;
  if (!setup_from(data, size, setup)) return;
  Hook hook = make_hook ? make_hook(setup) : Hook{};
  auto whole_framer = make(setup.limits);
  auto split_framer = make(setup.limits);
  whole_framer->literals_as_spans(setup.spans_only);
  split_framer->literals_as_spans(setup.spans_only);
  if (setup.blocks) {
    whole_framer->literals_in_blocks(24, 4);
    split_framer->literals_in_blocks(24, 4);
  }
  Run whole = frame(*whole_framer, setup.body, {}, hook);
  Run split =
      frame(*split_framer, setup.body, setup.cuts, hook, setup.interrupt, setup.use_prepare);
  FUZZ_CHECK(whole.error == split.error);
  FUZZ_CHECK(whole.units.size() == split.units.size());
  // Given back by take_partial, a partial unit is in the buffer again, not consumed.
  if (!whole.error && !setup.interrupt) FUZZ_CHECK(whole.consumed == split.consumed);
  std::string raws;
  for (std::size_t i = 0; i < whole.units.size(); ++i) {
    const Unit& u = whole.units[i];
    FUZZ_CHECK(same_unit(u, split.units[i]));
    FUZZ_CHECK(!u.raw.empty());
    FUZZ_CHECK(u.lines.size() <= setup.limits.max_lines || u.lines.size() == 1);
    raws += u.whole_raw();
    check_unit(setup, u);
  }
  // Units are the input, in order, without gaps; a framer may hold a partial unit back.
  FUZZ_CHECK(raws.size() <= whole.consumed);
  FUZZ_CHECK(setup.body.substr(0, raws.size()) == raws);
}

/// `raw` is `line` followed by CRLF or LF.
inline bool is_line_with_end(std::string_view raw, std::string_view line) {
  if (raw.substr(0, line.size()) != line) return false;
  std::string_view end = raw.substr(line.size());
  return end == "\r\n" || end == "\n";
}

}  // namespace parley::framing::fuzz
