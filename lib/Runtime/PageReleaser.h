//===- PageReleaser.h - Keep a mapped file out of the RSS -------*- C++ -*-===//
//
// The compile-time run that computes the meta-token prefix reads every
// weight of the mapped payload once, layer after layer. A file mapping's
// pages count in the process's resident set once touched, so that run
// would peak at the size of the weights (3 GB for the 1.5B model in bf16,
// 6 GB in f32) although it needs one layer at a time. While a PageReleaser
// lives, a thread hands the range's pages back whenever the process's
// file-backed resident memory has grown by a budget: the pages stay in the
// page cache, and the mapping is read-only, so a later read maps the same
// bytes again (a minor fault). Nothing the computation sees changes.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_PAGERELEASER_H
#define HYMBA_RUNTIME_PAGERELEASER_H

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace mlir::hymba {

class PageReleaser {
public:
  /// Watches [base, base + bytes), a read-only file mapping (nothing when
  /// `base` is null), with `budget` bytes of growth between releases.
  PageReleaser(void *base, uint64_t bytes, uint64_t budget);
  ~PageReleaser();
  PageReleaser(const PageReleaser &) = delete;
  PageReleaser &operator=(const PageReleaser &) = delete;

  /// Releases so far (for tests and --stats).
  unsigned releases() const { return count; }

private:
  void run();
  void release();

  void *base;
  uint64_t bytes, budgetPages;
  unsigned count = 0;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_PAGERELEASER_H
