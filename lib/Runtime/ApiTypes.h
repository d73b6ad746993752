//===- ApiTypes.h - What the C API's handles hold ---------------*- C++ -*-===//
//
// The opaque types of include/hymba/hymba.h, shared by the C API
// (Api.cpp), the executable's main and the server, which use the C++ parts
// (TextStream, Sampler) directly.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_APITYPES_H
#define HYMBA_RUNTIME_APITYPES_H

#include "ModelFile.h"
#include "Sampler.h"
#include "Session.h"
#include "Tokenizer.h"
#include "hymba/hymba.h"

#include <string>
#include <vector>

struct hymba_model {
  mlir::hymba::ModelFile file;
  mlir::hymba::Tokenizer tokenizer;
  bool hasTokenizer = false;
};

struct hymba_session {
  explicit hymba_session(hymba_model &m)
      : model(m), session(m.file), sampler(mlir::hymba::SamplingOptions{}) {}
  hymba_model &model;
  mlir::hymba::Session session;
  mlir::hymba::SamplingOptions sampling;
  mlir::hymba::Sampler sampler;
  std::vector<float> logits; // the last row fed; empty before any
};

namespace mlir::hymba {
/// Sets the calling thread's hymba_last_error and returns `status`.
hymba_status fail(hymba_status status, const std::string &message);
/// Checks sampling options as the executable's flags are checked.
bool validSampling(const hymba_sampling &s, std::string &error);
} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_APITYPES_H
