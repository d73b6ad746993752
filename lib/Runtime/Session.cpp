//===- Session.cpp - One sequence's decode state --------------------------===//
#include "Session.h"
#include "ModelAbi.h"
#ifdef HYMBA_CUDA
#include "CudaDriver.h"
#endif

#include <cstdlib>
#include <cstring>

using namespace hymba;

Session::Session(const ModelFile &model) : model(model) {
  numMeta = model.meta("num_meta_tokens");
  maxSeqLen = model.meta("max_seq_len");
  vocabSize = model.meta("vocab_size");
  // Zeroed state is a fresh sequence: empty caches, zero conv/SSM state.
#ifdef HYMBA_CUDA
  state = static_cast<int8_t *>(allocShared(model.stateBytes() + 64));
  std::memset(state, 0, model.stateBytes() + 64);
#else
  state = static_cast<int8_t *>(std::calloc(model.stateBytes() + 64, 1));
#endif
  // Folded meta tokens: every sequence starts after them.
  const std::string &snap = model.stateSnapshot();
  if (!snap.empty())
    std::memcpy(state, snap.data(), snap.size());
}

bool Session::computePrefixState(std::string &out, std::string &error) {
  if (!_mlir_ciface_hymba_prefix) {
    error = "this executable has no meta-token prefix entry point";
    return false;
  }
  ByteBuffer params = wrap(model.params(), int64_t(model.paramsBytes()));
  ByteBuffer st = wrap(state, int64_t(model.stateBytes()));
  _mlir_ciface_hymba_prefix(&params, &st);
  out.assign(reinterpret_cast<const char *>(state), model.stateBytes());
  return true;
}

Session::~Session() {
#ifdef HYMBA_CUDA
  freeShared(state);
#else
  std::free(state);
#endif
}

bool Session::feed(const std::vector<int32_t> &ids, std::vector<float> &logits,
                   bool allRows, std::string &error) {
  if (ids.empty()) {
    error = "nothing to run: the token list is empty";
    return false;
  }
  if (numTokens + int64_t(ids.size()) > maxSeqLen) {
    error = "the sequence would hold " +
            std::to_string(numTokens + ids.size()) + " tokens, more than the " +
            std::to_string(maxSeqLen) +
            " this executable was compiled for (hymba-compile --max-seq-len)";
    return false;
  }
  for (int32_t id : ids)
    if (id < 0 || id >= vocabSize) {
      error = "token id " + std::to_string(id) +
              " is outside the vocabulary [0, " + std::to_string(vocabSize) +
              ")";
      return false;
    }
  ByteBuffer params = wrap(model.params(), int64_t(model.paramsBytes()));
  ByteBuffer st = wrap(state, int64_t(model.stateBytes()));
  std::vector<int32_t> idsCopy(ids);
  IdBuffer idBuf = wrap(idsCopy.data(), int64_t(idsCopy.size()));
  Logits out{};
  bool folded = !model.stateSnapshot().empty();
  if (numTokens == 0 && !folded)
    _mlir_ciface_hymba_start(&out, &params, &st, &idBuf);
  else
    _mlir_ciface_hymba_continue(&out, &params, &st, &idBuf,
                                numMeta + numTokens);
  numTokens += ids.size();

  int64_t rows = out.sizes[0], first = allRows ? 0 : rows - 1;
  logits.resize(size_t(rows - first) * vocabSize);
  for (int64_t r = first; r < rows; ++r)
    for (int64_t v = 0; v < vocabSize; ++v)
      logits[(r - first) * vocabSize + v] =
          out.aligned[out.offset + r * out.strides[0] + v * out.strides[1]];
#ifdef HYMBA_CUDA
  freeShared(out.allocated); // gpu.alloc host_shared
#else
  std::free(out.allocated);
#endif
  return true;
}
