// Fuzzes the POP3 framer with want_block() called before the units the third header byte
// selects (bit i % 8 for unit i): +OK responses are followed by dot-terminated blocks.
#include "fuzz_pop3_common.hpp"

using namespace parley::framing;
using namespace parley::framing::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto hook = [](const Setup& setup) -> Hook {
    return [flags = setup.flags](Framer& f, std::size_t index) {
      if ((flags >> (index % 8)) & 1) f.want_block();
    };
  };
  run_target(data, size, make_pop3_framer, hook,
             [](const Setup& setup, const Unit& u) { check_pop3(setup, u, true); });
  return 0;
}
