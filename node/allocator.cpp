#include "node/allocator.hpp"

#include <cstdlib>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace encore::node {

void tune_allocator() {
#if defined(__GLIBC__)
    constexpr int mmap_threshold_bytes = 256 * 1024;
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (tunables != nullptr && std::string_view(tunables).find("mmap_threshold") != std::string_view::npos) return;
    mallopt(M_MMAP_THRESHOLD, mmap_threshold_bytes);
#endif
}

}  // namespace encore::node
