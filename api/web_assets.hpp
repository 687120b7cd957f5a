#pragma once
// The web pages: the files of api/web/ (the list is web_files in api/CMakeLists.txt), embedded into
// the binary at build time by api/web/embed.cmake. Nothing is read from disk or fetched at run time.

#include <string_view>
#include <vector>

namespace encore::api {

struct web_asset {
    std::string_view path;          // where it is served: "/" (index.html), "/admin" (admin.html), "/app.js"
    std::string_view file;          // its name in api/web/: "index.html", "app.js"
    std::string_view content_type;  // with its charset
    std::string_view etag;          // quoted, from the file's SHA-256
    std::string_view body;
};

// Every embedded file (generated).
const std::vector<web_asset>& web_assets();
// The file served at `path`, or nullptr.
const web_asset* find_web_asset(std::string_view path);

}  // namespace encore::api
