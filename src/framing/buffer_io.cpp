// InputBuffer's zero-copy receive path: the transport reads straight into the buffer's tail.
#include <cstring>
#include <string>

#include "framing/framing.hpp"

namespace parley::framing {

char* InputBuffer::prepare(std::size_t n) {
  reserve_more(n);  // also compacts a dominant consumed prefix
  prepared_ = size_;
  return data_.get() + size_;
}

void InputBuffer::unread(std::string_view bytes) {
  if (bytes.empty()) return;
  std::string joined = std::string(bytes) + std::string(view());
  size_ = 0;
  start_ = 0;
  scanned_ = 0;
  scan_from_ = 0;
  gather_end_ = 0;
  append(joined);
}

void InputBuffer::commit(std::size_t n) {
  size_ = prepared_ + n;
}

void InputBuffer::release_if_empty() {
  if (size() != 0 || !data_ || gather_end_ != 0) return;
  data_.reset();
  size_ = capacity_ = start_ = scanned_ = scan_from_ = prepared_ = 0;
}

}  // namespace parley::framing
