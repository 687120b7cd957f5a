#pragma once
// One Encore process on the embedded log: the durable log, the partition runners, the projector,
// the router and the HTTP server, wired together and started in the right order. `encore serve`
// and the HTTP benchmark run one of these.

#include <cstdint>
#include <memory>
#include <string>

#include "events/result.hpp"

namespace encore::api {

struct node_options {
    std::string data_dir;
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string admin_key;
    std::uint32_t partitions = 4;
    std::string token_secret;   // empty: generated on first start and kept in the data dir
    bool demo = false;          // create a demo concert when there is none
    unsigned http_threads = 2;
    bool sync = true;           // fsync the log (only benchmarks of the engine path turn it off)
};

class node {
public:
    static result<std::unique_ptr<node>> start(const node_options& options);
    ~node();
    std::uint16_t port() const;
    // The demo concert's id in text form, when one was created or found.
    const std::string& demo_concert() const;
    // Drains HTTP, stops the runners (writing checkpoints) and closes the stores. Idempotent.
    void stop();

    struct parts;

private:
    explicit node(std::unique_ptr<parts> p);
    std::unique_ptr<parts> parts_;
};

}  // namespace encore::api
