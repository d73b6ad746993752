/* generate.c - use a Hymba model compiled with --emit=lib from C.
 *
 *   build/bin/hymba-compile models/hymba-kjv -o kjv --emit=lib
 *   cc examples/generate.c -I kjv -L kjv -lhymba_kjv -Wl,-rpath,kjv -o gen
 *   ./gen kjv/hymba_kjv.hymba "And God said" 32
 *
 * Prints the greedy continuation of the prompt as it is generated (the
 * executable's `--prompt TEXT -n N` prints the same text), then the same
 * prompt sampled at temperature 0.8 token by token through the lower-level
 * calls. Every error is reported with hymba_last_error(). */
#include "hymba_kjv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_piece(const char *piece, size_t length, void *user) {
  (void)user;
  fwrite(piece, 1, length, stdout);
  fflush(stdout);
  return 0; /* non-zero would stop generating */
}

static int fail(const char *what) {
  fprintf(stderr, "error: %s: %s\n", what, hymba_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.hymba PROMPT [N]\n", argv[0]);
    return 2;
  }
  long n = argc > 3 ? strtol(argv[3], NULL, 10) : 32;
  hymba_model *model;
  if (hymba_model_open(argv[1], &model) != HYMBA_OK)
    return fail("opening the model");
  hymba_session *session;
  if (hymba_session_create(model, &session) != HYMBA_OK)
    return fail("creating a session");

  /* 1. Greedy, the simple way. */
  int64_t generated = 0;
  if (hymba_generate(session, argv[2], n, print_piece, NULL, &generated) !=
      HYMBA_OK)
    return fail("generating");
  printf("\n[%lld tokens]\n", (long long)generated);

  /* 2. Sampled, token by token: tokenize, feed, sample, feed. */
  int32_t ids[256];
  size_t count;
  if (hymba_session_reset(session) != HYMBA_OK ||
      hymba_tokenize(model, argv[2], strlen(argv[2]), /*add_bos=*/1, ids,
                     sizeof(ids) / sizeof(ids[0]), &count) != HYMBA_OK ||
      hymba_session_feed(session, ids, count, NULL) != HYMBA_OK)
    return fail("prefill");
  hymba_sampling sampling = hymba_sampling_default();
  sampling.temperature = 0.8f;
  sampling.seed = 7;
  if (hymba_session_set_sampling(session, &sampling) != HYMBA_OK)
    return fail("sampling options");
  int32_t out[256];
  size_t produced = 0;
  while ((long)produced < n && produced < 256) {
    int32_t id;
    if (hymba_session_sample(session, &id) != HYMBA_OK)
      return fail("sampling");
    if (id == hymba_model_eos(model))
      break;
    out[produced++] = id;
    if (hymba_session_feed(session, &id, 1, NULL) != HYMBA_OK)
      return fail("decoding");
  }
  char text[4096];
  size_t length;
  if (hymba_detokenize(model, out, produced, text, sizeof(text), &length) !=
      HYMBA_OK)
    return fail("detokenizing");
  printf("sampled:%.*s\n", (int)length, text);

  hymba_session_free(session);
  hymba_model_close(model);
  return 0;
}
