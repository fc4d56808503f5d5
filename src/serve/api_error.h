// An HTTP-level error in the OpenAI shape: {"error": {"message", "type", "param", "code"}}.
// Request parsing throws it; the transport turns it into the status and body.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace qlm::serve {

// Serialises a response body. Text from the model can hold invalid UTF-8 (a token that is part
// of a character, in log-prob token strings): it becomes U+FFFD instead of an exception.
inline std::string to_json_text(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = "", std::string code = "")
      : std::runtime_error(message),
        status_(status),
        param_(std::move(param)),
        code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  // The OpenAI error type for the status ("invalid_request_error", "authentication_error", ...).
  std::string type() const;
  nlohmann::ordered_json body() const;

 private:
  int status_;
  std::string param_, code_;
};

inline std::string ApiError::type() const {
  switch (status_) {
    case 401:
      return "authentication_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    case 503:
      return "service_unavailable_error";
    default:
      return status_ >= 500 ? "server_error" : "invalid_request_error";
  }
}

inline nlohmann::ordered_json ApiError::body() const {
  nlohmann::ordered_json e = {
      {"message", what()}, {"type", type()}, {"param", nullptr}, {"code", nullptr}};
  if (!param_.empty()) e["param"] = param_;
  if (!code_.empty()) e["code"] = code_;
  return {{"error", e}};
}

}  // namespace qlm::serve
