// Token-id list parsing shared by the commands.
#include <cerrno>
#include <cstdlib>

#include "base/error.h"
#include "commands.h"

namespace qlm::cli {

std::vector<int> parse_id_list(const std::string& text, const std::string& flag) {
  std::vector<int> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    char* stop = nullptr;
    errno = 0;
    long v = item.empty() ? -1 : std::strtol(item.c_str(), &stop, 10);
    if (item.empty() || *stop != '\0' || errno != 0 || v < 0 || v > 0x7fffffff)
      fail(flag, ": '", item, "' is not a token id (expected comma-separated non-negative integers)");
    ids.push_back(static_cast<int>(v));
    start = end + 1;
  }
  return ids;
}

}  // namespace qlm::cli
