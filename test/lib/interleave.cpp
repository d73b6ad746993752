// Links a model compiled with --emit=lib (header hymba_kjv.h) into a C++
// program: two sessions fed interleaved, token by token, must give the same
// logits as each sequence run alone in a fresh session; and every misuse
// gets an error code and a message, never a crash.
//   interleave PAYLOAD
#include "hymba_kjv.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {
int failures = 0;

void check(bool ok, const std::string &what) {
  std::printf("%s: %s\n", ok ? "PASS" : "FAIL", what.c_str());
  failures += !ok;
}

/// Expects `status` with a non-empty message.
void expectError(hymba_status got, hymba_status want, const std::string &what) {
  check(got == want && *hymba_last_error(),
        what + " -> " + std::to_string(got) + " '" + hymba_last_error() + "'");
}

using Rows = std::vector<std::vector<float>>;

/// Feeds `prompt` then each of `steps` one token at a time; one logits row
/// per feed.
Rows runAlone(hymba_model *m, const std::vector<int32_t> &prompt,
              const std::vector<int32_t> &steps) {
  hymba_session *s = nullptr;
  Rows rows;
  if (hymba_session_create(m, &s) != HYMBA_OK)
    return rows;
  int64_t vocab = hymba_model_vocab_size(m);
  hymba_session_feed(s, prompt.data(), prompt.size(), nullptr);
  rows.emplace_back(hymba_session_logits(s), hymba_session_logits(s) + vocab);
  for (int32_t id : steps) {
    hymba_session_feed(s, &id, 1, nullptr);
    rows.emplace_back(hymba_session_logits(s), hymba_session_logits(s) + vocab);
  }
  hymba_session_free(s);
  return rows;
}

double maxDiff(const Rows &a, const Rows &b) {
  if (a.size() != b.size() || a.empty())
    return INFINITY;
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a[i].size(); ++j)
      d = std::fmax(d, std::fabs(double(a[i][j]) - b[i][j]));
  return d;
}
} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PAYLOAD\n", argv[0]);
    return 2;
  }
  check(hymba_api_version() == HYMBA_API_VERSION, "API version");
  hymba_model *m = nullptr;
  expectError(hymba_model_open("/nonexistent/model.hymba", &m), HYMBA_ERR_IO,
              "open a missing file");
  expectError(hymba_model_open(nullptr, &m), HYMBA_ERR_INVALID_ARGUMENT,
              "open NULL");
  if (hymba_model_open(argv[1], &m) != HYMBA_OK) {
    std::printf("FAIL: open %s: %s\n", argv[1], hymba_last_error());
    return 1;
  }
  int64_t vocab = hymba_model_vocab_size(m);
  check(vocab == HYMBA_KJV_VOCAB_SIZE, "vocab size matches the header");

  // Two prompts of different lengths, and decode tokens for each.
  std::vector<int32_t> a = {hymba_model_bos(m), 10, 20, 30, 40, 50};
  std::vector<int32_t> b = {hymba_model_bos(m), 7, 300, 1000};
  std::vector<int32_t> stepsA = {5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<int32_t> stepsB = {100, 200, 300, 400, 500, 600, 700, 800};
  Rows aloneA = runAlone(m, a, stepsA), aloneB = runAlone(m, b, stepsB);

  hymba_session *sa = nullptr, *sb = nullptr;
  check(hymba_session_create(m, &sa) == HYMBA_OK &&
            hymba_session_create(m, &sb) == HYMBA_OK,
        "two sessions");
  // Session B is used once and reset first: reset must give a fresh state.
  int32_t junk[3] = {1, 2, 3};
  hymba_session_feed(sb, junk, 3, nullptr);
  check(hymba_session_reset(sb) == HYMBA_OK && hymba_session_length(sb) == 0 &&
            hymba_session_logits(sb) == nullptr,
        "reset");
  Rows rowsA, rowsB;
  auto last = [&](hymba_session *s) {
    return std::vector<float>(hymba_session_logits(s),
                              hymba_session_logits(s) + vocab);
  };
  hymba_session_feed(sa, a.data(), a.size(), nullptr);
  rowsA.push_back(last(sa));
  hymba_session_feed(sb, b.data(), b.size(), nullptr);
  rowsB.push_back(last(sb));
  for (size_t i = 0; i < stepsA.size(); ++i) {
    hymba_session_feed(sb, &stepsB[i], 1, nullptr);
    rowsB.push_back(last(sb));
    hymba_session_feed(sa, &stepsA[i], 1, nullptr);
    rowsA.push_back(last(sa));
  }
  double dA = maxDiff(rowsA, aloneA), dB = maxDiff(rowsB, aloneB);
  std::printf("interleaved vs alone: max |diff| %.3g (A), %.3g (B) over %zu "
              "rows\n",
              dA, dB, rowsA.size() + rowsB.size());
  check(dA == 0 && dB == 0, "interleaved logits equal separate runs");
  check(maxDiff(aloneA, aloneB) > 1e-3, "the two sequences differ");

  // feed with all_logits: the prompt's rows; the last equals the stored row.
  std::vector<float> all(a.size() * size_t(vocab));
  hymba_session_reset(sa);
  check(hymba_session_feed(sa, a.data(), a.size(), all.data()) == HYMBA_OK &&
            std::memcmp(all.data() + (a.size() - 1) * vocab,
                        hymba_session_logits(sa), vocab * sizeof(float)) == 0,
        "all_logits' last row is the session's logits");

  // Misuse: codes and messages, and the session stays usable.
  int64_t before = hymba_session_length(sa);
  int32_t bad = int32_t(vocab);
  expectError(hymba_session_feed(sa, &bad, 1, nullptr),
              HYMBA_ERR_INVALID_ARGUMENT, "token id = vocab");
  std::vector<int32_t> tooMany(size_t(hymba_model_max_seq_len(m)), 5);
  expectError(hymba_session_feed(sa, tooMany.data(), tooMany.size(), nullptr),
              HYMBA_ERR_CAPACITY, "more tokens than max_seq_len");
  check(hymba_session_length(sa) == before, "a refused feed consumes nothing");
  hymba_session *fresh = nullptr;
  hymba_session_create(m, &fresh);
  int32_t tok;
  expectError(hymba_session_sample(fresh, &tok), HYMBA_ERR_STATE,
              "sample before any feed");
  hymba_sampling bad_s = hymba_sampling_default();
  bad_s.top_p = NAN;
  expectError(hymba_session_set_sampling(fresh, &bad_s),
              HYMBA_ERR_INVALID_ARGUMENT, "top_p NaN");
  bad_s = hymba_sampling_default();
  bad_s.temperature = -1;
  expectError(hymba_session_set_sampling(fresh, &bad_s),
              HYMBA_ERR_INVALID_ARGUMENT, "negative temperature");
  int32_t ids[2];
  size_t n = 0;
  expectError(
      hymba_tokenize(m, "In the beginning God created", 28, 1, ids, 2, &n),
      HYMBA_ERR_BUFFER_TOO_SMALL, "tokenize into a short buffer");
  check(n > 2, "tokenize reports the count needed (" + std::to_string(n) + ")");
  expectError(hymba_detokenize(m, &bad, 1, nullptr, 0, &n),
              HYMBA_ERR_INVALID_ARGUMENT, "detokenize an id = vocab");
  expectError(hymba_session_feed(nullptr, ids, 1, nullptr),
              HYMBA_ERR_INVALID_ARGUMENT, "feed a NULL session");
  expectError(hymba_generate(sa, "x", 1, nullptr, nullptr, nullptr),
              HYMBA_ERR_STATE, "generate on a non-empty session");

  hymba_session_free(fresh);
  hymba_session_free(sa);
  hymba_session_free(sb);
  hymba_model_close(m);
  std::printf("%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
