#pragma once
// Temporary directories for tests: a new one under the system temp directory, and one removed with
// everything in it when the test ends. Header-only, for the tests of any folder.

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace encore::test {

// Creates a new directory named `prefix-XXXXXX` (mkdtemp) under the system temp directory and
// returns its path; throws std::runtime_error if it cannot. The caller removes it.
inline std::string make_temp_directory(const std::string& prefix) {
    const std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
    return std::string(buffer.data());
}

class temp_directory {
public:
    explicit temp_directory(const std::string& prefix = "encore-test") : path_(make_temp_directory(prefix)) {}
    ~temp_directory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_directory(const temp_directory&) = delete;
    temp_directory& operator=(const temp_directory&) = delete;

    std::string path() const { return path_.string(); }
    std::string path(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

}  // namespace encore::test
