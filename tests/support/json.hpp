#pragma once
// A small JSON reader for tests that check what corio writes (traces, metrics): parses the whole
// text into a tree and throws std::runtime_error on anything that is not valid JSON.
#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace corio_test {

struct json {
  using array = std::vector<json>;
  using object = std::map<std::string, json>;
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>, std::shared_ptr<object>> v;

  bool is_object() const { return std::holds_alternative<std::shared_ptr<object>>(v); }
  bool is_array() const { return std::holds_alternative<std::shared_ptr<array>>(v); }
  bool is_string() const { return std::holds_alternative<std::string>(v); }
  bool is_number() const { return std::holds_alternative<double>(v); }
  const object& obj() const { return *std::get<std::shared_ptr<object>>(v); }
  const array& arr() const { return *std::get<std::shared_ptr<array>>(v); }
  const std::string& str() const { return std::get<std::string>(v); }
  double num() const { return std::get<double>(v); }
  bool has(const std::string& k) const { return is_object() && obj().count(k) > 0; }
  const json& operator[](const std::string& k) const { return obj().at(k); }

  static json parse(std::string_view text) {
    std::size_t i = 0;
    json j = value(text, i);
    skip(text, i);
    if (i != text.size()) fail("trailing characters", i);
    return j;
  }

private:
  [[noreturn]] static void fail(const char* what, std::size_t at) {
    throw std::runtime_error(std::string("invalid JSON: ") + what + " at offset " + std::to_string(at));
  }
  static void skip(std::string_view t, std::size_t& i) {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t')) ++i;
  }
  static void expect(std::string_view t, std::size_t& i, char c) {
    skip(t, i);
    if (i >= t.size() || t[i] != c) fail("unexpected character", i);
    ++i;
  }
  static std::string string_at(std::string_view t, std::size_t& i) {
    expect(t, i, '"');
    std::string s;
    while (i < t.size() && t[i] != '"') {
      char c = t[i++];
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string", i);
      if (c == '\\') {
        if (i >= t.size()) fail("bad escape", i);
        char e = t[i++];
        switch (e) {
        case '"': case '\\': case '/': s += e; break;
        case 'b': s += '\b'; break;
        case 'f': s += '\f'; break;
        case 'n': s += '\n'; break;
        case 'r': s += '\r'; break;
        case 't': s += '\t'; break;
        case 'u':
          if (i + 4 > t.size()) fail("bad \\u escape", i);
          s += static_cast<char>(std::strtol(std::string(t.substr(i, 4)).c_str(), nullptr, 16) & 0x7f);
          i += 4;
          break;
        default: fail("bad escape", i);
        }
      } else {
        s += c;
      }
    }
    if (i >= t.size()) fail("unterminated string", i);
    ++i;
    return s;
  }
  static json value(std::string_view t, std::size_t& i) {
    skip(t, i);
    if (i >= t.size()) fail("unexpected end", i);
    json j;
    char c = t[i];
    if (c == '{') {
      ++i;
      auto o = std::make_shared<object>();
      skip(t, i);
      if (i < t.size() && t[i] == '}') {
        ++i;
      } else {
        for (;;) {
          std::string k = string_at(t, i);
          expect(t, i, ':');
          (*o)[k] = value(t, i);
          skip(t, i);
          if (i < t.size() && t[i] == ',') { ++i; continue; }
          expect(t, i, '}');
          break;
        }
      }
      j.v = o;
    } else if (c == '[') {
      ++i;
      auto a = std::make_shared<array>();
      skip(t, i);
      if (i < t.size() && t[i] == ']') {
        ++i;
      } else {
        for (;;) {
          a->push_back(value(t, i));
          skip(t, i);
          if (i < t.size() && t[i] == ',') { ++i; continue; }
          expect(t, i, ']');
          break;
        }
      }
      j.v = a;
    } else if (c == '"') {
      j.v = string_at(t, i);
    } else if (t.substr(i, 4) == "true") {
      i += 4;
      j.v = true;
    } else if (t.substr(i, 5) == "false") {
      i += 5;
      j.v = false;
    } else if (t.substr(i, 4) == "null") {
      i += 4;
      j.v = nullptr;
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t start = i;
      if (t[i] == '-') ++i;
      while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.' || t[i] == 'e' || t[i] == 'E' ||
                              t[i] == '+' || t[i] == '-'))
        ++i;
      std::string num(t.substr(start, i - start));
      char* end = nullptr;
      double d = std::strtod(num.c_str(), &end);
      if (end != num.c_str() + num.size()) fail("bad number", start);
      j.v = d;
    } else {
      fail("unexpected character", i);
    }
    return j;
  }
};

} // namespace corio_test
