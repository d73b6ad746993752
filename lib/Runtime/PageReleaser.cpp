//===- PageReleaser.cpp - Keep a mapped file out of the RSS ---------------===//
#include "PageReleaser.h"

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace mlir::hymba;

namespace {
/// Resident file-backed (and shared) pages of this process, the third
/// field of /proc/self/statm; -1 when it cannot be read.
long long residentFilePages(int fd) {
  char text[256];
  ssize_t n = fd >= 0 ? pread(fd, text, sizeof(text) - 1, 0) : -1;
  if (n <= 0)
    return -1;
  text[n] = '\0';
  long long size, resident, shared;
  if (std::sscanf(text, "%lld %lld %lld", &size, &resident, &shared) != 3)
    return -1;
  return shared;
}
} // namespace

PageReleaser::PageReleaser(void *base, uint64_t bytes, uint64_t budget)
    : base(base), bytes(bytes),
      budgetPages(budget / uint64_t(sysconf(_SC_PAGESIZE))) {
  if (base && bytes)
    thread = std::thread([this] { run(); });
}

PageReleaser::~PageReleaser() {
  if (!thread.joinable())
    return;
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_one();
  thread.join();
}

void PageReleaser::release() {
  (void)madvise(base, bytes, MADV_DONTNEED);
  ++count;
}

void PageReleaser::run() {
  int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  long long floor = residentFilePages(fd);
  std::unique_lock<std::mutex> lock(mutex);
  // A millisecond between looks: the computation maps at most a few tens
  // of MB in that time, so the peak stays near the budget.
  while (!wake.wait_for(lock, std::chrono::milliseconds(1),
                        [this] { return stopping; })) {
    long long now = residentFilePages(fd);
    if (now < 0) { // no /proc: release on every look
      release();
      continue;
    }
    if (now - floor < (long long)budgetPages)
      continue;
    release();
    floor = residentFilePages(fd);
  }
  if (fd >= 0)
    ::close(fd);
}
