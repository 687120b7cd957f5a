// GET /, /app.js, /app.css: the fan's web page; GET /admin, /admin.js, /admin.css: the organizer's;
// from the files embedded at build time.

#include "api/web_assets.hpp"

namespace encore::api {

const web_asset* find_web_asset(std::string_view path) {
    if (path == "/") path = "/index.html";
    if (path == "/admin") path = "/admin.html";
    for (const web_asset& asset : web_assets()) {
        if (asset.path == path) return &asset;
    }
    return nullptr;
}

}  // namespace encore::api
