// Differential-testing driver: reads [{"source", "messages", "add_generation_prompt", "tools",
// "extra"}] as JSON on stdin, prints [{"output"} or {"error"}] as JSON (used by chat_fuzz.py).
#include <iostream>
#include <iterator>

#include "base/error.h"
#include "chat/chat_template.h"

int main() {
  using Json = nlohmann::ordered_json;
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  Json cases = Json::parse(input);
  Json results = Json::array();
  for (const Json& c : cases) {
    Json r = Json::object();
    try {
      qlm::ChatTemplate t(c["source"].get<std::string>());
      r["output"] =
          t.render(c.value("messages", Json::array()), c.value("add_generation_prompt", false),
                   c.value("tools", Json(nullptr)), c.value("extra", Json::object()));
    } catch (const qlm::Error& e) {
      r["error"] = e.what();
    }
    results.push_back(r);
  }
  std::cout << results.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
}
