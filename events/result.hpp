#pragma once
// Operating errors (I/O failed, bytes did not decode) travel as values of `result<T>`, never as
// exceptions; domain refusals are `refusal` values, bugs are assertions.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace encore {

enum class errc : int {
    ok = 0,
    corrupt,        // bytes that do not decode
    io,             // the storage or the network failed
    invalid,        // a caller passed something outside the contract
    unavailable,    // not ready or shutting down
    timeout,
    storage,        // the storage refuses writes for now (its file system is nearly full): retry later
};

struct error {
    errc code = errc::ok;
    std::string message;
};

template <class T>
class [[nodiscard]] result {
public:
    result(T value) : state_(std::move(value)) {}
    result(error e) : state_(std::move(e)) {}
    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { assert(ok()); return std::get<0>(state_); }
    const T& value() const& { assert(ok()); return std::get<0>(state_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    const error& err() const { assert(!ok()); return std::get<1>(state_); }

private:
    std::variant<T, error> state_;
};

struct unit {};

// Discarding an error must be a visible decision, named at the call site.
template <class T>
void ignore_error(result<T>&&) {}

}  // namespace encore
