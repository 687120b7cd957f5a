#!/bin/sh
# The purity check's own test: run on a directory with a file that reads the clock, purity_check.sh
# must fail for that reason and no other (not a usage error, a missing directory or a broken
# script): exit status 1, its verdict, and the clock's line among the lines it reports.
set -u
check=${1:?usage: purity_check_catches.sh PURITY_CHECK_SH FIXTURE_DIR}
fixture=${2:?usage: purity_check_catches.sh PURITY_CHECK_SH FIXTURE_DIR}
output=$(sh "$check" "$fixture" 2>&1)
status=$?
printf '%s\n' "$output"
if [ "$status" -ne 1 ]; then
    echo "purity_check_catches: expected exit status 1 from the purity check, got $status" >&2
    exit 1
fi
if ! printf '%s\n' "$output" | grep -q '^purity_check: the lines above give the engine a clock, randomness, threads or the environment$'; then
    echo "purity_check_catches: the purity check failed without its verdict" >&2
    exit 1
fi
# grep -n prints the line number first (and the file name first when there are several files).
if ! printf '%s\n' "$output" | grep -qE '(^|:)[0-9]+:.*std::chrono::system_clock::now\(\)'; then
    echo "purity_check_catches: the purity check did not report the fixture's clock" >&2
    exit 1
fi
echo "purity_check_catches: the purity check reports the fixture's clock"
