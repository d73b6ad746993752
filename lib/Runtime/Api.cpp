//===- Api.cpp - The C API of a compiled model (include/hymba/hymba.h) ----===//
//
// Thin C layer over ModelFile, Session, Tokenizer and Sampler: argument
// checks, error codes with a per-thread message, and no exception or exit
// crossing the boundary (allocation failures become
// HYMBA_ERR_OUT_OF_MEMORY).
//
//===----------------------------------------------------------------------===//

#include "ApiTypes.h"
#include "CpuCheck.h"
#include "ModelMemory.h"
#include "TextStream.h"

#include <cmath>
#include <cstring>
#include <mutex>
#include <new>

using namespace mlir::hymba;

namespace {
thread_local std::string lastError;

/// Runs `body`, turning exceptions into status codes.
template <typename F> hymba_status guarded(F body) {
  try {
    lastError.clear();
    return body();
  } catch (const std::bad_alloc &) {
    return fail(HYMBA_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception &e) {
    return fail(HYMBA_ERR_INVALID_ARGUMENT, e.what());
  } catch (...) {
    return fail(HYMBA_ERR_INVALID_ARGUMENT, "unknown internal error");
  }
}

hymba_status needTokenizer(const hymba_model *model) {
  if (!model)
    return fail(HYMBA_ERR_INVALID_ARGUMENT, "the model is NULL");
  if (!model->hasTokenizer)
    return fail(HYMBA_ERR_NO_TOKENIZER,
                "this model was compiled without tokenizer.model: use token "
                "ids");
  return HYMBA_OK;
}
} // namespace

hymba_status mlir::hymba::fail(hymba_status status,
                               const std::string &message) {
  lastError = message;
  return status;
}

bool mlir::hymba::validSampling(const hymba_sampling &s, std::string &error) {
  // The executable's ranges (CommandLine.cpp); NaN fails every comparison.
  if (!(s.temperature >= 0.0f && s.temperature <= 100.0f))
    error = "temperature must be in [0, 100]";
  else if (!(s.top_p >= 0.0f && s.top_p <= 1.0f))
    error = "top_p must be in [0, 1]";
  else if (s.top_k < 0)
    error = "top_k must be >= 0";
  else
    return true;
  return false;
}

extern "C" {

int hymba_api_version(void) { return HYMBA_API_VERSION; }

const char *hymba_last_error(void) { return lastError.c_str(); }

hymba_status hymba_model_open(const char *path, hymba_model **out) {
  return guarded([&] {
    if (!path || !out)
      return fail(HYMBA_ERR_INVALID_ARGUMENT,
                  "hymba_model_open: path and model must not be NULL");
    *out = nullptr;
    std::string error;
    if (!checkTargetCPU(error))
      return fail(HYMBA_ERR_DEVICE, error);
    static std::mutex deviceLock;
    {
      std::lock_guard<std::mutex> lock(deviceLock);
      if (!initModelDevice(error))
        return fail(HYMBA_ERR_DEVICE, error);
    }
    auto model = std::make_unique<hymba_model>();
    if (!model->file.open(path, /*forPrefixState=*/false, error))
      return fail(HYMBA_ERR_IO, error);
    model->hasTokenizer = !model->file.tokenizerProto().empty();
    if (model->hasTokenizer &&
        !model->tokenizer.load(model->file.tokenizerProto(), error))
      return fail(HYMBA_ERR_IO, error);
    *out = model.release();
    return HYMBA_OK;
  });
}

void hymba_model_close(hymba_model *model) { delete model; }

int64_t hymba_model_vocab_size(const hymba_model *m) {
  return m ? m->file.meta("vocab_size") : -1;
}
int64_t hymba_model_max_seq_len(const hymba_model *m) {
  return m ? m->file.meta("max_seq_len") : -1;
}
int32_t hymba_model_bos(const hymba_model *m) {
  return m ? int32_t(m->file.meta("bos_token_id")) : -1;
}
int32_t hymba_model_eos(const hymba_model *m) {
  return m ? int32_t(m->file.meta("eos_token_id")) : -1;
}
int hymba_model_has_tokenizer(const hymba_model *m) {
  return m && m->hasTokenizer;
}

hymba_status hymba_tokenize(const hymba_model *model, const char *text,
                            size_t length, int add_bos, int32_t *ids,
                            size_t capacity, size_t *count) {
  return guarded([&] {
    if (hymba_status s = needTokenizer(model))
      return s;
    if ((!text && length) || !count || (!ids && capacity))
      return fail(HYMBA_ERR_INVALID_ARGUMENT,
                  "hymba_tokenize: NULL text, ids or count");
    std::vector<int32_t> out =
        model->tokenizer.encode(std::string(text ? text : "", length));
    if (add_bos)
      out.insert(out.begin(), hymba_model_bos(model));
    *count = out.size();
    if (out.size() > capacity)
      return fail(HYMBA_ERR_BUFFER_TOO_SMALL,
                  "the text has " + std::to_string(out.size()) +
                      " tokens, more than the " + std::to_string(capacity) +
                      " the buffer holds");
    std::copy(out.begin(), out.end(), ids);
    return HYMBA_OK;
  });
}

hymba_status hymba_detokenize(const hymba_model *model, const int32_t *ids,
                              size_t count, char *text, size_t capacity,
                              size_t *length) {
  return guarded([&] {
    if (hymba_status s = needTokenizer(model))
      return s;
    if ((!ids && count) || !length || (!text && capacity))
      return fail(HYMBA_ERR_INVALID_ARGUMENT,
                  "hymba_detokenize: NULL ids, text or length");
    int64_t vocab = hymba_model_vocab_size(model);
    for (size_t i = 0; i < count; ++i)
      if (ids[i] < 0 || ids[i] >= vocab)
        return fail(HYMBA_ERR_INVALID_ARGUMENT,
                    "token id " + std::to_string(ids[i]) +
                        " is outside the vocabulary [0, " +
                        std::to_string(vocab) + ")");
    std::string out =
        model->tokenizer.decode(std::vector<int32_t>(ids, ids + count));
    *length = out.size();
    if (out.size() > capacity)
      return fail(HYMBA_ERR_BUFFER_TOO_SMALL,
                  "the text has " + std::to_string(out.size()) +
                      " bytes, more than the " + std::to_string(capacity) +
                      " the buffer holds");
    std::memcpy(text, out.data(), out.size());
    if (capacity > out.size())
      text[out.size()] = '\0';
    return HYMBA_OK;
  });
}

hymba_status hymba_session_create(hymba_model *model, hymba_session **out) {
  return guarded([&] {
    if (!model || !out)
      return fail(HYMBA_ERR_INVALID_ARGUMENT,
                  "hymba_session_create: model and session must not be NULL");
    *out = nullptr;
    auto s = std::make_unique<hymba_session>(*model);
    std::string error;
    if (!s->session.start(error))
      return fail(HYMBA_ERR_OUT_OF_MEMORY, error);
    *out = s.release();
    return HYMBA_OK;
  });
}

void hymba_session_free(hymba_session *session) { delete session; }

hymba_status hymba_session_reset(hymba_session *s) {
  return guarded([&] {
    if (!s)
      return fail(HYMBA_ERR_INVALID_ARGUMENT, "the session is NULL");
    s->session.reset();
    s->logits.clear();
    s->sampler = Sampler(s->sampling);
    return HYMBA_OK;
  });
}

int64_t hymba_session_length(const hymba_session *s) {
  return s ? s->session.tokens() : -1;
}

hymba_status hymba_session_feed(hymba_session *s, const int32_t *ids,
                                size_t count, float *all_logits) {
  return guarded([&] {
    if (!s || (!ids && count))
      return fail(HYMBA_ERR_INVALID_ARGUMENT,
                  "hymba_session_feed: NULL session or ids");
    std::vector<int32_t> tokens(ids, ids + count);
    // Session::feed checks everything before it runs anything, so a refused
    // chunk leaves the sequence as it was.
    std::string error;
    if (count && s->session.tokens() + int64_t(count) > s->session.capacity())
      return fail(HYMBA_ERR_CAPACITY,
                  "the sequence would hold " +
                      std::to_string(s->session.tokens() + int64_t(count)) +
                      " tokens, more than the " +
                      std::to_string(s->session.capacity()) +
                      " this model was compiled for (hymba-compile "
                      "--max-seq-len)");
    std::vector<float> rows;
    if (!s->session.feed(tokens, rows, all_logits != nullptr, error))
      return fail(HYMBA_ERR_INVALID_ARGUMENT, error);
    int64_t vocab = s->session.vocab();
    if (all_logits)
      std::memcpy(all_logits, rows.data(), rows.size() * sizeof(float));
    s->logits.assign(rows.end() - vocab, rows.end());
    return HYMBA_OK;
  });
}

const float *hymba_session_logits(const hymba_session *s) {
  return s && !s->logits.empty() ? s->logits.data() : nullptr;
}

hymba_sampling hymba_sampling_default(void) {
  hymba_sampling s;
  s.temperature = 0.0f;
  s.top_k = 0;
  s.top_p = 1.0f;
  s.seed = 0;
  return s;
}

hymba_status hymba_session_set_sampling(hymba_session *s,
                                        const hymba_sampling *sampling) {
  return guarded([&] {
    if (!s || !sampling)
      return fail(HYMBA_ERR_INVALID_ARGUMENT,
                  "hymba_session_set_sampling: NULL argument");
    std::string error;
    if (!validSampling(*sampling, error))
      return fail(HYMBA_ERR_INVALID_ARGUMENT, error);
    s->sampling.temperature = sampling->temperature;
    s->sampling.topK = sampling->top_k;
    s->sampling.topP = sampling->top_p;
    s->sampling.seed = sampling->seed;
    s->sampler = Sampler(s->sampling);
    return HYMBA_OK;
  });
}

hymba_status hymba_session_sample(hymba_session *s, int32_t *token) {
  return guarded([&] {
    if (!s || !token)
      return fail(HYMBA_ERR_INVALID_ARGUMENT,
                  "hymba_session_sample: NULL argument");
    if (s->logits.empty())
      return fail(HYMBA_ERR_STATE, "nothing to sample from: feed tokens first");
    *token = s->sampler.next(s->logits.data(), int64_t(s->logits.size()));
    return HYMBA_OK;
  });
}

hymba_status hymba_generate(hymba_session *s, const char *prompt,
                            int64_t max_tokens, hymba_text_callback on_text,
                            void *user, int64_t *generated) {
  return guarded([&] {
    if (!s || !prompt || max_tokens < 0)
      return fail(HYMBA_ERR_INVALID_ARGUMENT,
                  "hymba_generate: NULL session or prompt, or max_tokens < 0");
    if (generated)
      *generated = 0;
    if (hymba_status st = needTokenizer(&s->model))
      return st;
    if (s->session.tokens() != 0)
      return fail(HYMBA_ERR_STATE,
                  "hymba_generate needs an empty session (reset it)");
    const Tokenizer &tok = s->model.tokenizer;
    std::vector<int32_t> ids = tok.encode(prompt);
    ids.insert(ids.begin(), hymba_model_bos(&s->model));
    if (hymba_status st =
            hymba_session_feed(s, ids.data(), ids.size(), nullptr))
      return st;
    TextStream text(tok, ids);
    int32_t eos = hymba_model_eos(&s->model);
    auto emit = [&](const std::string &piece) {
      return on_text && on_text(piece.data(), piece.size(), user) != 0;
    };
    for (int64_t step = 0; step < max_tokens; ++step) {
      int32_t id = s->sampler.next(s->logits.data(), int64_t(s->logits.size()));
      if (id == eos)
        break;
      if (generated)
        ++*generated;
      if (emit(text.push(id)) || step + 1 == max_tokens ||
          s->session.tokens() >= s->session.capacity())
        break;
      if (hymba_status st = hymba_session_feed(s, &id, 1, nullptr))
        return st;
    }
    emit(text.finish());
    return HYMBA_OK;
  });
}

} // extern "C"
