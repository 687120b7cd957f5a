#pragma once
// The fan's web page: the files of api/web/ (index.html, app.js, app.css), embedded into the
// binary at build time by api/web/embed.cmake. Nothing is read from disk or fetched at run time.

#include <string_view>
#include <vector>

namespace encore::api {

struct web_asset {
    std::string_view path;          // "/index.html", "/app.js", "/app.css"
    std::string_view content_type;  // with its charset
    std::string_view etag;          // quoted, from the file's SHA-256
    std::string_view body;
};

// Every embedded file (generated).
const std::vector<web_asset>& web_assets();
// The file served at `path` ("/" is /index.html), or nullptr.
const web_asset* find_web_asset(std::string_view path);

}  // namespace encore::api
