#include "thorough/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include "common/strings.h"

namespace dyprof {

Result<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string rest = url;
  auto scheme_end = rest.find("://");
  if (scheme_end != std::string::npos) {
    u.scheme = rest.substr(0, scheme_end);
    rest = rest.substr(scheme_end + 3);
  }
  if (u.scheme != "http") return Status::InvalidArgument("only http:// URLs are supported: " + url);
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) u.path = rest.substr(slash);
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  auto colon = hostport.rfind(':');
  if (colon != std::string::npos && hostport.find(']') == std::string::npos) {
    u.host = hostport.substr(0, colon);
    const std::string port = hostport.substr(colon + 1);
    u.port = port.size() <= 5 && IsDigits(port) ? std::stoi(port) : 0;
    if (u.port < 1 || u.port > 65535) return Status::InvalidArgument("bad port in URL (expected 1-65535): " + url);
  } else {
    u.host = hostport;
  }
  if (u.host.empty()) return Status::InvalidArgument("no host in URL: " + url);
  return u;
}

Result<HttpResponse> HttplibClient::Send(const std::string& method, const std::string& url, const std::string& body,
                                         const HttpHeaders& headers, const HttpDataFn& on_data, double timeout_s) {
  // Split the absolute URL into the connection part and the request path (with query).
  auto scheme_end = url.find("://");
  size_t path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  std::string base = path_start == std::string::npos ? url : url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  DYPROF_ASSIGN_OR_RETURN(Url u, ParseUrl(base));
  httplib::Client cli(u.host, u.port);
  time_t sec = static_cast<time_t>(timeout_s);
  time_t usec = static_cast<time_t>((timeout_s - static_cast<double>(sec)) * 1e6);
  cli.set_connection_timeout(std::min<time_t>(sec, 10), sec < 10 ? usec : 0);
  cli.set_read_timeout(sec, usec);
  cli.set_write_timeout(sec, usec);
  cli.set_keep_alive(false);

  httplib::Request req;
  req.method = method;
  req.path = path;
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.body = body;
    if (!req.has_header("Content-Type")) req.headers.emplace("Content-Type", "application/json");
  }
  HttpResponse out;
  bool aborted = false;
  if (on_data) {
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
      if (!on_data(std::string_view(data, len))) {
        aborted = true;
        return false;
      }
      return true;
    };
  }
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool ok = cli.send(req, res, err);
  if (aborted) return Status::IoError("transfer aborted by the receiver");
  if (!ok) {
    if (err == httplib::Error::Read && res.status <= 0)
      return Status::Timeout("no response from " + url + " within " + std::to_string(timeout_s) + " s (" +
                             httplib::to_string(err) + ")");
    return Status::IoError(method + " " + url + ": " + httplib::to_string(err));
  }
  out.status = res.status;
  if (!on_data) out.body = std::move(res.body);
  return out;
}

void RaiseListenBacklog(int port, int backlog) {
  for (int fd = 3; fd < 4096; ++fd) {
    int accepting = 0;
    socklen_t len = sizeof(accepting);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int p = addr.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
            : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                         : -1;
    if (p == port) ::listen(fd, backlog);
  }
}

Result<int> FreeLocalPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::IoError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return Status::IoError("bind() failed");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace dyprof
