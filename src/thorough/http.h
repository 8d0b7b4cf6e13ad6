// HTTP seams for thorough mode: a small client interface (with streamed bodies for SSE) and its
// cpp-httplib implementation, plus URL parsing. Plain HTTP only (no TLS).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dyprof {

struct Url {
  std::string scheme = "http";
  std::string host;
  int port = 80;
  std::string path;  // base path without a trailing '/', "" for none
};

// "http://host:port/base" → Url (a URL without a scheme is read as http). Only http is
// accepted; the port must be 1-65535.
Result<Url> ParseUrl(const std::string& url);

struct HttpResponse {
  int status = 0;
  std::string body;  // empty when the body was streamed to on_data
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;
// Receives body bytes as they arrive; return false to abort the transfer.
using HttpDataFn = std::function<bool(std::string_view)>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends `method` to `url` (absolute). With `on_data` the body is streamed to it, otherwise
  // collected in the response. Transport failures (refused, reset, timeout, aborted) are
  // kIoError / kTimeout; any HTTP status is a response.
  virtual Result<HttpResponse> Send(const std::string& method, const std::string& url, const std::string& body,
                                    const HttpHeaders& headers = {}, const HttpDataFn& on_data = nullptr,
                                    double timeout_s = 30) = 0;
};

// One connection per call (cpp-httplib), thread-safe.
class HttplibClient : public HttpClient {
 public:
  Result<HttpResponse> Send(const std::string& method, const std::string& url, const std::string& body,
                            const HttpHeaders& headers = {}, const HttpDataFn& on_data = nullptr,
                            double timeout_s = 30) override;
};

// Raises the listen backlog of the socket listening on `port` of this process (cpp-httplib
// compiles in a backlog of 5, too small for bursts of connections). Best effort.
void RaiseListenBacklog(int port, int backlog = 4096);

// A TCP port that was free on 127.0.0.1 a moment ago.
Result<int> FreeLocalPort();

}  // namespace dyprof
