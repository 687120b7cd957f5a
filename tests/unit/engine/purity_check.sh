#!/bin/sh
# Fails if a source file directly under the given directory (engine/, not engine/runner/) names a
# clock, a random source, a thread, a lock, an atomic or the environment: the engine is a pure
# function of its command log (DESIGN.md, rule 2; STYLE.md, The engine).
# The patterns avoid the engine's own identifiers such as `state.clock`.
set -eu
dir=${1:?usage: purity_check.sh ENGINE_DIR}
patterns='std::chrono|<chrono>|_clock::|system_clock|steady_clock|high_resolution_clock|(^|[^_.a-z])clock\(|clock_gettime|gettimeofday|<ctime>|<time\.h>|(^|[^_.a-z])time\((nullptr|NULL|0)?\)|localtime|gmtime|std::rand|(^|[^_.a-z])s?rand\(|<random>|random_device|mt19937|default_random_engine|<thread>|std::thread|std::jthread|this_thread|thread_local|getenv|<mutex>|std::mutex|lock_guard|unique_lock|<atomic>|std::atomic|<condition_variable>|<future>|std::async'
files=$(find "$dir" -maxdepth 1 -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cc' \) | sort)
if [ -z "$files" ]; then
    echo "purity_check: no sources under $dir" >&2
    exit 2
fi
# shellcheck disable=SC2086
if grep -nE "$patterns" $files; then
    echo "purity_check: the lines above give the engine a clock, randomness, threads or the environment" >&2
    exit 1
fi
echo "purity_check: $(echo "$files" | wc -l) files under $dir are pure"
