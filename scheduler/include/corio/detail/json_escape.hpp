#pragma once
// Internal: escaping text for the JSON corio writes (traces, the metrics endpoint).
//
//   out += '"' + json_escape(name) + '"';
#include <cstdio>
#include <string>
#include <string_view>

namespace corio::detail {

// s with quotes, backslashes and control characters escaped; other bytes pass as they are.
inline std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace corio::detail
