//===- ModelThread.h - One thread runs every model call ---------*- C++ -*-===//
//
// The server's requests are handled on many threads, but the generated code
// is best called from one: its OpenMP team belongs to the thread that calls
// it, and several teams spinning on two cores would slow each other down.
// Requests hand their model calls (a prefill chunk, a decode step) to this
// thread, which runs them in arrival order; with several sequences active
// they therefore take turns token by token.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_MODELTHREAD_H
#define HYMBA_RUNTIME_MODELTHREAD_H

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace mlir::hymba {

class ModelThread {
public:
  ModelThread() : worker([this] { loop(); }) {}
  ~ModelThread() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      quit = true;
    }
    wake.notify_all();
    worker.join();
  }

  /// Runs `fn` on the model thread after the calls queued before it and
  /// returns its result.
  template <typename T> T run(std::function<T()> fn) {
    std::packaged_task<T()> task(std::move(fn));
    std::future<T> result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex);
      jobs.emplace_back([&task] { task(); });
    }
    wake.notify_one();
    return result.get();
  }

private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return quit || !jobs.empty(); });
        if (jobs.empty())
          return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      job();
    }
  }

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void()>> jobs;
  bool quit = false;
  std::thread worker; // last: starts after the members it uses
};

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_MODELTHREAD_H
