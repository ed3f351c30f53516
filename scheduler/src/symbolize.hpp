#pragma once
// Internal: the name of the function a coroutine frame belongs to, for the await-chain dump and
// debug reports ("read_request(corio::stream_reader&)").
#include <string>

namespace corio::detail {

// The demangled name of the coroutine whose frame starts at `frame` (GCC and Clang both put the
// resume function's address in the frame's first word), or "" if it cannot be told: the frame
// finished, or the symbol is in neither the dynamic nor the static symbol table (a stripped
// binary). Takes a lock and may read the program's ELF file once; debug paths only.
std::string coroutine_function(const void* frame);

// The same for a code address.
std::string function_at(const void* code);

// The unqualified name without parameters: "ns::server::handle_client(corio::stream_reader)" ->
// "handle_client"; a lambda's call operator -> its "{lambda(...)#1}".
std::string short_function_name(const std::string& full);

} // namespace corio::detail
