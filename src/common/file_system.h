// FileSystem: the seam for every file the profiler reads or writes. PosixFileSystem is the real one;
// tests use a temp directory with the real one, or MemFileSystem for pure logic.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace dyprof {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<std::string> ReadFile(const std::string& path) const = 0;
  // Writes `contents` to a temp file beside `path` then renames it over `path`, so a reader
  // sees either the old file or the whole new one, never a partial write.
  virtual Status WriteFileAtomic(const std::string& path, const std::string& contents) = 0;
  // Creates `path` and its parents. OK if it already exists as a directory.
  virtual Status MakeDirs(const std::string& path) = 0;
  virtual bool IsFile(const std::string& path) const = 0;
  virtual bool IsDirectory(const std::string& path) const = 0;
  // Removes a file if it exists; OK when absent.
  virtual Status RemoveFile(const std::string& path) = 0;
};

// The real file system.
class PosixFileSystem : public FileSystem {
 public:
  Result<std::string> ReadFile(const std::string& path) const override;
  Status WriteFileAtomic(const std::string& path, const std::string& contents) override;
  Status MakeDirs(const std::string& path) override;
  bool IsFile(const std::string& path) const override;
  bool IsDirectory(const std::string& path) const override;
  Status RemoveFile(const std::string& path) override;
};

// An in-memory file system for unit tests. Directories are implied by file paths plus MakeDirs.
class MemFileSystem : public FileSystem {
 public:
  Result<std::string> ReadFile(const std::string& path) const override;
  Status WriteFileAtomic(const std::string& path, const std::string& contents) override;
  Status MakeDirs(const std::string& path) override;
  bool IsFile(const std::string& path) const override;
  bool IsDirectory(const std::string& path) const override;
  Status RemoveFile(const std::string& path) override;

  const std::map<std::string, std::string>& files() const { return files_; }

 private:
  std::map<std::string, std::string> files_;
  std::vector<std::string> dirs_;
};

// Joins two path parts with exactly one '/'.
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace dyprof
