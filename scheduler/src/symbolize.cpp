// Code address -> function name: dladdr for exported symbols, else the object's own .symtab
// (functions with internal linkage, lambdas and executables linked without -rdynamic are only
// there), then the Itanium demangler.
#include "symbolize.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>
#include <mutex>
#include <vector>

namespace corio::detail {

namespace {

struct symbol {
  std::uintptr_t start;
  std::uintptr_t size;
  const char* name; // inside the mapped file
};

// The FUNC symbols of one object file, sorted by address. The file stays mapped for the life of
// the process (names point into it); a missing or unreadable file gives an empty table.
struct symbol_table {
  std::vector<symbol> symbols;
  bool relative = true; // addresses are offsets from the load base (shared objects, PIE)

  explicit symbol_table(const char* path) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    void* map = MAP_FAILED;
    if (::fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(sizeof(Elf64_Ehdr)))
      map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) return;
    const auto* base = static_cast<const char*>(map);
    const std::size_t len = static_cast<std::size_t>(st.st_size);
    const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
    if (std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shoff == 0 || eh->e_shoff + std::size_t{eh->e_shnum} * sizeof(Elf64_Shdr) > len)
      return;
    relative = eh->e_type == ET_DYN;
    const auto* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; ++i) {
      if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
      const Elf64_Shdr& strs = sh[sh[i].sh_link];
      if (sh[i].sh_offset + sh[i].sh_size > len || strs.sh_offset + strs.sh_size > len) continue;
      const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + sh[i].sh_offset);
      const std::size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
      for (std::size_t k = 0; k < n; ++k) {
        const Elf64_Sym& s = syms[k];
        if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_value == 0 || s.st_name >= strs.sh_size) continue;
        symbols.push_back({s.st_value, s.st_size, base + strs.sh_offset + s.st_name});
      }
    }
    std::sort(symbols.begin(), symbols.end(), [](const symbol& a, const symbol& b) { return a.start < b.start; });
  }

  const char* find(std::uintptr_t addr) const {
    auto it = std::upper_bound(symbols.begin(), symbols.end(), addr,
                               [](std::uintptr_t a, const symbol& s) { return a < s.start; });
    // Several symbols may start at one address (aliases): any whose range holds addr will do.
    while (it != symbols.begin()) {
      --it;
      if (addr < it->start + std::max<std::uintptr_t>(it->size, 1)) return it->name;
      if (it->size != 0) break;
    }
    return nullptr;
  }
};

std::mutex tables_mu;
// Never destroyed: a report may come while the process exits.
std::map<std::string, std::unique_ptr<symbol_table>>& tables() {
  static auto* t = new std::map<std::string, std::unique_ptr<symbol_table>>;
  return *t;
}

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  std::string name = status == 0 && out ? std::string(out.get()) : std::string(mangled);
  // The coroutine's resume function is a clone of it: "f() [clone .resume]" (Clang), or GCC's
  // actor "f(f()::_Z...Frame*)", which takes the frame of f() as its parameter. People know the
  // coroutine by f().
  if (auto pos = name.find(" [clone"); pos != std::string::npos) name.erase(pos);
  // The one spelling nobody wants to read.
  static constexpr std::string_view long_string = "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >";
  for (auto pos = name.find(long_string); pos != std::string::npos; pos = name.find(long_string, pos))
    name.replace(pos, long_string.size(), "std::string");
  if (name.size() > 8 && name.ends_with(".Frame*)")) {
    int depth = 0;
    std::size_t open = std::string::npos;
    for (std::size_t i = name.size(); i-- > 0;) {
      if (name[i] == ')') ++depth;
      else if (name[i] == '(' && --depth == 0) {
        open = i;
        break;
      }
    }
    if (open != std::string::npos) {
      std::string inner = name.substr(open + 1, name.size() - open - 2);
      if (auto cut = inner.rfind("::_Z"); cut != std::string::npos) name = inner.substr(0, cut);
    }
  }
  return name;
}

} // namespace

std::string function_at(const void* code) {
  if (!code) return {};
  Dl_info info{};
  if (::dladdr(code, &info) == 0) return {};
  if (info.dli_sname && info.dli_saddr) return demangle(info.dli_sname);
  if (!info.dli_fname) return {};
  // The main program reports "" as its name on some systems: read it through /proc.
  std::string path = *info.dli_fname ? info.dli_fname : "/proc/self/exe";
  std::lock_guard lock(tables_mu);
  auto& slot = tables()[path];
  if (!slot) slot = std::make_unique<symbol_table>(path.c_str());
  auto addr = reinterpret_cast<std::uintptr_t>(code);
  if (slot->relative) addr -= reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  const char* name = slot->find(addr);
  return name ? demangle(name) : std::string();
}

std::string short_function_name(const std::string& full) {
  std::string name = full;
  if (name.ends_with(" const")) name.resize(name.size() - 6);
  if (!name.empty() && name.back() == ')') { // drop the parameter list: from the '(' matching the last ')'
    int depth = 0;
    for (std::size_t i = name.size(); i-- > 0;) {
      if (name[i] == ')') ++depth;
      else if (name[i] == '(' && --depth == 0) {
        name.resize(i);
        break;
      }
    }
  }
  // The last "::" component outside <...>, {...} and (...).
  int depth = 0;
  std::size_t from = 0;
  for (std::size_t i = 0; i + 1 < name.size(); ++i) {
    char c = name[i];
    if (c == '<' || c == '{' || c == '(') ++depth;
    else if (c == '>' || c == '}' || c == ')') --depth;
    else if (depth == 0 && c == ':' && name[i + 1] == ':') from = i + 2;
  }
  std::string last = name.substr(from);
  if (last == "operator()" && from >= 2) { // a lambda: name it by its closure type
    std::string outer = name.substr(0, from - 2);
    std::string closure = short_function_name(outer);
    if (!closure.empty()) return closure;
  }
  return last.empty() ? full : last;
}

std::string coroutine_function(const void* frame) {
  if (!frame) return {};
  void* resume = nullptr;
  std::memcpy(&resume, frame, sizeof resume);
  return function_at(resume);
}

} // namespace corio::detail
