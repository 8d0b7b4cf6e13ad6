// Server-sent events: an incremental parser for `data:` events of OpenAI-compatible streams.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace dyprof {

class SseParser {
 public:
  // Feeds bytes in any split; calls on_event with the data of each complete event (multi-line
  // data joined with '\n'). Comments (':') and other fields are ignored; "\r\n" is accepted.
  void Feed(std::string_view bytes, const std::function<void(const std::string& data)>& on_event);

 private:
  std::string line_;
  std::string data_;
  bool has_data_ = false;
};

}  // namespace dyprof
