#pragma once
// corio::outcome<T>: a value or the exception that prevented it (what gather_settled returns per
// branch; asyncio's gather(..., return_exceptions=True)).
//
//   auto [a, b] = co_await corio::gather_settled(fetch(x), fetch(y));
//   if (a) use(*a); else log(corio::describe_exception(a.error()));
//   int v = b.value();  // rethrows b's exception, exactly as thrown
#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio {

template <class T>
class outcome {
  using stored = std::conditional_t<std::is_reference_v<T>, std::reference_wrapper<std::remove_reference_t<T>>, T>;

public:
  outcome(std::exception_ptr e) : v_(std::in_place_index<1>, std::move(e)) {}
  template <class U>
    requires std::is_constructible_v<stored, U&&>
  outcome(std::in_place_t, U&& u) : v_(std::in_place_index<0>, std::forward<U>(u)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // The value; rethrows the exception when there is none.
  decltype(auto) value() & {
    if (!has_value()) std::rethrow_exception(std::get<1>(v_));
    return unwrap(std::get<0>(v_));
  }
  decltype(auto) value() && {
    if (!has_value()) std::rethrow_exception(std::get<1>(v_));
    if constexpr (std::is_reference_v<T>)
      return std::get<0>(v_).get();
    else
      return T(std::move(std::get<0>(v_)));
  }
  decltype(auto) operator*() & { return value(); }
  auto* operator->() { return std::addressof(value()); }

  // The exception, or nullptr when there is a value.
  std::exception_ptr error() const noexcept { return has_value() ? nullptr : std::get<1>(v_); }

private:
  static decltype(auto) unwrap(stored& s) {
    if constexpr (std::is_reference_v<T>)
      return s.get();
    else
      return (s);
  }
  std::variant<stored, std::exception_ptr> v_;
};

} // namespace corio
