// GET / and /admin: the fan's web page and the organizer's; GET /<file> for the other files of
// api/web/ (scripts, style sheets); from the files embedded at build time.

#include "api/web_assets.hpp"

namespace encore::api {

const web_asset* find_web_asset(std::string_view path) {
    for (const web_asset& asset : web_assets()) {
        if (asset.path == path) return &asset;
    }
    return nullptr;
}

}  // namespace encore::api
