//===- Session.cpp - One sequence's decode state --------------------------===//
#include "Session.h"
#include "ModelAbi.h"
#include "ModelMemory.h"
#include "PageReleaser.h"

#include <algorithm>
#include <cstring>
#include <vector>

using namespace mlir::hymba;

Session::Session(const ModelFile &model) : model(model) {
  numMeta = model.meta("num_meta_tokens");
  maxSeqLen = model.meta("max_seq_len");
  vocabSize = model.meta("vocab_size");
}

bool Session::start(std::string &error) {
  // Zeroed state is a fresh sequence: empty caches, zero conv/SSM state.
  // Token ids go to model memory too; a chunk holds at most max_seq_len
  // (bounded by the payload reader, so the product cannot overflow).
  uint64_t stateBytes = model.stateBytes() + 64;
  uint64_t idBytes = sizeof(int32_t) * uint64_t(maxSeqLen > 0 ? maxSeqLen : 1);
  state = static_cast<int8_t *>(allocModelBuffer(stateBytes));
  ids = static_cast<int32_t *>(allocModelBuffer(idBytes));
  if (!state || !ids || stateBytes < model.stateBytes()) {
    error = "cannot allocate the " + std::to_string(stateBytes + idBytes) +
            " bytes the model's state needs (KV caches for max_seq_len " +
            std::to_string(maxSeqLen) +
            " tokens; recompile with a smaller --max-seq-len)";
    return false;
  }
  loadInitialState();
  return true;
}

void Session::loadInitialState() {
  // Folded meta tokens: every sequence starts after them.
  std::string_view snap = model.stateSnapshot();
  if (!snap.empty())
    copyToModel(state, snap.data(), snap.size());
}

void Session::reset() {
  // A folded snapshot covers the whole arena; otherwise a fresh sequence is
  // all zeros (copied in slices: the arena can be large, and on the GPU it
  // is not host memory).
  if (model.stateSnapshot().empty()) {
    std::vector<char> zeros(std::min<uint64_t>(model.stateBytes(), 1 << 20));
    for (uint64_t done = 0; done < model.stateBytes(); done += zeros.size())
      copyToModel(state + done, zeros.data(),
                  std::min<uint64_t>(zeros.size(), model.stateBytes() - done));
  }
  loadInitialState();
  numTokens = 0;
}

Session::~Session() {
  if (ids)
    freeModelBuffer(ids);
  if (state)
    freeModelBuffer(state);
}

bool Session::computePrefixState(std::string &out, std::string &error) {
  if (!_mlir_ciface_hymba_prefix) {
    error = "this executable has no meta-token prefix entry point";
    return false;
  }
  ByteBuffer params = wrap(model.params(), int64_t(model.paramsBytes()));
  ByteBuffer st = wrap(state, int64_t(model.stateBytes()));
  {
    // This run reads every weight once, a layer at a time: it needs not
    // hold them all in its resident set (PageReleaser.h).
    PageReleaser release(model.mappedParams(), model.mappedBytes(),
                         uint64_t(64) << 20);
    _mlir_ciface_hymba_prefix(&params, &st);
  }
  out.resize(model.stateBytes());
  copyFromModel(out.data(), state, model.stateBytes());
  return true;
}

bool Session::feed(const std::vector<int32_t> &tokens,
                   std::vector<float> &logits, bool allRows,
                   std::string &error) {
  if (tokens.empty()) {
    error = "nothing to run: the token list is empty";
    return false;
  }
  if (numTokens + int64_t(tokens.size()) > maxSeqLen) {
    error = "the sequence would hold " +
            std::to_string(numTokens + tokens.size()) +
            " tokens, more than the " + std::to_string(maxSeqLen) +
            " this executable was compiled for (hymba-compile --max-seq-len)";
    return false;
  }
  for (int32_t id : tokens)
    if (id < 0 || id >= vocabSize) {
      error = "token id " + std::to_string(id) +
              " is outside the vocabulary [0, " + std::to_string(vocabSize) +
              ")";
      return false;
    }
  copyToModel(ids, tokens.data(), tokens.size() * sizeof(int32_t));
  ByteBuffer params = wrap(model.params(), int64_t(model.paramsBytes()));
  ByteBuffer st = wrap(state, int64_t(model.stateBytes()));
  IdBuffer idBuf = wrap(ids, int64_t(tokens.size()));
  Logits out{};
  // Generation needs only the last row's logits; the model code computes
  // the head for no other row.
  int64_t logitRows = allRows ? int64_t(tokens.size()) : 1;
  bool folded = !model.stateSnapshot().empty();
  if (numTokens == 0 && !folded)
    _mlir_ciface_hymba_start(&out, &params, &st, &idBuf, logitRows);
  else
    _mlir_ciface_hymba_continue(&out, &params, &st, &idBuf, logitRows,
                                numMeta + numTokens);
  numTokens += tokens.size();

  // The logits are a fresh row-major [logitRows, vocab] buffer of the model
  // code.
  if (out.sizes[0] != logitRows || out.sizes[1] != vocabSize) {
    freeModelBuffer(out.allocated);
    error = "the model code returned logits of shape [" +
            std::to_string(out.sizes[0]) + ", " +
            std::to_string(out.sizes[1]) + "], expected [" +
            std::to_string(logitRows) + ", " + std::to_string(vocabSize) +
            "]; the sequence was reset";
    // The model code has already advanced the state; a reset keeps the
    // state and the token count in agreement for whoever goes on.
    reset();
    return false;
  }
  logits.resize(size_t(logitRows) * vocabSize);
  copyFromModel(logits.data(), out.aligned + out.offset,
                logits.size() * sizeof(float));
  freeModelBuffer(out.allocated);
  return true;
}
