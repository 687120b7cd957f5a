#pragma once
// A value kept out of line: a record's rarely set, large field (a catalog's venue) as one pointer,
// so that every object holding the record (each command and event is the size of its largest
// alternative) stays small. It behaves as the value: copies copy it, comparisons compare it, and
// an unset one reads as the default value (nothing allocated until it is written).

#include <compare>
#include <memory>

namespace encore {

template <class T>
class boxed {
public:
    boxed() = default;
    boxed(const boxed& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
    boxed(boxed&&) noexcept = default;
    boxed& operator=(const boxed& other) {
        if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
        return *this;
    }
    boxed& operator=(boxed&&) noexcept = default;
    boxed& operator=(const T& value) {
        value_ = std::make_unique<T>(value);
        return *this;
    }

    const T& get() const { return value_ ? *value_ : empty(); }
    // The value to change (allocated on the first write).
    T& mut() {
        if (!value_) value_ = std::make_unique<T>();
        return *value_;
    }
    // Back to unset (what a decoder does with a value read as the default).
    void reset() { value_.reset(); }

    const T* operator->() const { return &get(); }
    T* operator->() { return &mut(); }
    const T& operator*() const { return get(); }
    T& operator*() { return mut(); }
    operator const T&() const { return get(); }
    operator T&() { return mut(); }

    friend bool operator==(const boxed& a, const boxed& b) { return a.get() == b.get(); }
    friend auto operator<=>(const boxed& a, const boxed& b) { return a.get() <=> b.get(); }

private:
    static const T& empty() {
        static const T value{};
        return value;
    }
    std::unique_ptr<T> value_;
};

template <class T>
struct is_boxed : std::false_type {};
template <class T>
struct is_boxed<boxed<T>> : std::true_type {};

}  // namespace encore
