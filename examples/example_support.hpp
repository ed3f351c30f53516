#pragma once
// Small helpers the example programs share: line-at-a-time output and command-line options.
#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace example {

// Prints one line and flushes it, so lines appear when they happen even through a pipe.
template <class... A>
void say(fmt::format_string<A...> f, A&&... a) {
  std::string s = fmt::format(f, std::forward<A>(a)...);
  s.push_back('\n');
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

// --name value / --name=value / --flag, with defaults.
class options {
public:
  options(int argc, char** argv) : argc_(argc), argv_(argv) {}
  std::string get(std::string_view name, std::string_view def) const {
    for (int i = 1; i < argc_; ++i) {
      std::string_view a = argv_[i];
      if (a.size() < 2 || a.substr(0, 2) != "--") continue;
      a.remove_prefix(2);
      if (a == name && i + 1 < argc_) return argv_[i + 1];
      if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=')
        return std::string(a.substr(name.size() + 1));
    }
    return std::string(def);
  }
  long num(std::string_view name, long def) const { return std::stol(get(name, std::to_string(def))); }
  bool flag(std::string_view name) const {
    for (int i = 1; i < argc_; ++i) {
      std::string_view a = argv_[i];
      if (a.size() > 2 && a.substr(0, 2) == "--" && a.substr(2) == name) return true;
    }
    return false;
  }

private:
  int argc_;
  char** argv_;
};

} // namespace example
