// A fixture for the purity check's own test: this file must be reported.
#include <chrono>
long now_ms() { return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count(); }
