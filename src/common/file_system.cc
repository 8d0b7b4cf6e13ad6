#include "common/file_system.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace dyprof {

namespace fs = std::filesystem;

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  if (a.back() == '/') return b.front() == '/' ? a + b.substr(1) : a + b;
  return b.front() == '/' ? a + b : a + "/" + b;
}

Result<std::string> PosixFileSystem::ReadFile(const std::string& path) const {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return Status::NotFound("no such file: " + path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read " + path);
  return ss.str();
}

Status PosixFileSystem::WriteFileAtomic(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IoError("cannot write " + tmp + ": " + std::strerror(errno));
    out << contents;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return Status::IoError("cannot write " + tmp + ": " + std::strerror(errno));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status::IoError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
  return Status::Ok();
}

Status PosixFileSystem::MakeDirs(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return Status::Ok();
  if (fs::exists(path, ec)) return Status::IoError("output path exists and is not a directory: " + path);
  fs::create_directories(path, ec);
  if (ec) return Status::IoError("cannot create directory " + path + ": " + ec.message());
  return Status::Ok();
}

bool PosixFileSystem::IsFile(const std::string& path) const {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

bool PosixFileSystem::IsDirectory(const std::string& path) const {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

Status PosixFileSystem::RemoveFile(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) return Status::IoError("cannot remove " + path + ": " + ec.message());
  return Status::Ok();
}

Result<std::string> MemFileSystem::ReadFile(const std::string& path) const {
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound("no such file: " + path);
  return it->second;
}

Status MemFileSystem::WriteFileAtomic(const std::string& path, const std::string& contents) {
  files_[path] = contents;
  return Status::Ok();
}

Status MemFileSystem::MakeDirs(const std::string& path) {
  if (files_.count(path)) return Status::IoError("output path exists and is not a directory: " + path);
  dirs_.push_back(path);
  return Status::Ok();
}

bool MemFileSystem::IsFile(const std::string& path) const { return files_.count(path) > 0; }

bool MemFileSystem::IsDirectory(const std::string& path) const {
  return std::find(dirs_.begin(), dirs_.end(), path) != dirs_.end();
}

Status MemFileSystem::RemoveFile(const std::string& path) {
  files_.erase(path);
  return Status::Ok();
}

}  // namespace dyprof
