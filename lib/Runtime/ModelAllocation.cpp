//===- ModelAllocation.cpp - Checked allocations of the model code --------===//
//
// The generated code allocates its temporaries and the logits with malloc
// and cannot check the result. hymba-compile links executables with
// --wrap=malloc, so every malloc call linked into the program (the model
// code's and the runtime's) comes here: a failed allocation ends the run
// with a message giving the bytes asked for, instead of a write through a
// null pointer.
//
//===----------------------------------------------------------------------===//

#include <cstddef>
#include <cstdio>
#include <unistd.h>

extern "C" void *__real_malloc(size_t bytes);

extern "C" void *__wrap_malloc(size_t bytes) {
  void *p = __real_malloc(bytes);
  if (!p && bytes) {
    // No stdio buffers: this must not allocate.
    char msg[200];
    int n =
        std::snprintf(msg, sizeof(msg),
                      "error: out of memory: the model could not allocate "
                      "%zu bytes (try a shorter prompt or --prefill-chunk)\n",
                      bytes);
    if (n > 0)
      (void)!::write(2, msg, size_t(n) < sizeof(msg) ? size_t(n) : sizeof(msg));
    ::_exit(1);
  }
  return p;
}
