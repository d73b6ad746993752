/*===- hymba.h - C API of a compiled Hymba model ------------------*- C -*-===*
 *
 * A model compiled with `hymba-compile CKPT --emit=lib -o DIR` is a library
 * (libNAME.a, libNAME.so) exporting this API, a header NAME.h (this text plus
 * the model's facts) and its payload NAME.hymba (weights, tokenizer,
 * metadata), which hymba_model_open maps. An executable compiled from the
 * same checkpoint with the same options carries the same payload, so its
 * path works too.
 *
 * Conventions:
 *  - Every function that can fail returns a hymba_status; HYMBA_OK is 0.
 *    On failure hymba_last_error() describes it (per thread). Nothing here
 *    exits or aborts on bad input.
 *  - A model is read-only once open and may be shared by threads; a session
 *    (one sequence: its own KV caches, conv and SSM states, sampler) is used
 *    by one thread at a time. Sessions of one model are independent: any
 *    number may be interleaved (several conversations in one process).
 *  - The API version below changes only when the API does.
 *
 *===----------------------------------------------------------------------===*/
#ifndef HYMBA_HYMBA_H
#define HYMBA_HYMBA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HYMBA_API_VERSION 1

typedef enum hymba_status {
  HYMBA_OK = 0,
  HYMBA_ERR_INVALID_ARGUMENT = 1, /* null pointer, id outside the vocabulary */
  HYMBA_ERR_IO = 2,               /* the payload cannot be read or is bad */
  HYMBA_ERR_CAPACITY = 3,         /* the sequence would exceed max_seq_len */
  HYMBA_ERR_OUT_OF_MEMORY = 4,
  HYMBA_ERR_DEVICE = 5,           /* the CPU lacks a compiled-in feature */
  HYMBA_ERR_NO_TOKENIZER = 6,     /* compiled without tokenizer.model */
  HYMBA_ERR_BUFFER_TOO_SMALL = 7, /* the size needed is returned anyway */
  HYMBA_ERR_STATE = 8,            /* e.g. sampling before any token was fed */
} hymba_status;

typedef struct hymba_model hymba_model;
typedef struct hymba_session hymba_session;

/* HYMBA_API_VERSION of the library (compare with the header's). */
int hymba_api_version(void);

/* The last error of the calling thread ("" when none). Valid until the next
 * call into this API from the same thread. */
const char *hymba_last_error(void);

/* Maps the payload at `path` (NAME.hymba, or an executable of the same
 * model) and checks it against the compiled code. */
hymba_status hymba_model_open(const char *path, hymba_model **model);
/* Closes a model; its sessions must be freed first. NULL is ignored. */
void hymba_model_close(hymba_model *model);

int64_t hymba_model_vocab_size(const hymba_model *model);
/* The most tokens one sequence may hold (hymba-compile --max-seq-len). */
int64_t hymba_model_max_seq_len(const hymba_model *model);
int32_t hymba_model_bos(const hymba_model *model);
int32_t hymba_model_eos(const hymba_model *model);
int hymba_model_has_tokenizer(const hymba_model *model);

/* Text -> token ids (SentencePiece), with the BOS token first when
 * `add_bos`. Writes at most `capacity` ids and sets *count to the number the
 * text has; HYMBA_ERR_BUFFER_TOO_SMALL when that is more than `capacity`. */
hymba_status hymba_tokenize(const hymba_model *model, const char *text,
                            size_t length, int add_bos, int32_t *ids,
                            size_t capacity, size_t *count);
/* Token ids -> text (UTF-8, not NUL-terminated unless room is left: a NUL is
 * written after the text when `capacity` > *length). */
hymba_status hymba_detokenize(const hymba_model *model, const int32_t *ids,
                              size_t count, char *text, size_t capacity,
                              size_t *length);

/* A new, empty sequence. */
hymba_status hymba_session_create(hymba_model *model, hymba_session **session);
void hymba_session_free(hymba_session *session);
/* Forgets every token: the session is as new (sampler reseeded). */
hymba_status hymba_session_reset(hymba_session *session);
/* Tokens the sequence holds. */
int64_t hymba_session_length(const hymba_session *session);

/* Runs `count` tokens (a prompt: prefill; one token: a decode step) after
 * those already fed. When `all_logits` is not NULL it receives count x vocab
 * floats (row i: the distribution after ids[0..i]). Afterwards
 * hymba_session_logits gives the last row. Nothing is consumed on error. */
hymba_status hymba_session_feed(hymba_session *session, const int32_t *ids,
                                size_t count, float *all_logits);
/* The vocab logits after the last token fed (NULL before any). Valid until
 * the next feed or reset of this session. */
const float *hymba_session_logits(const hymba_session *session);

/* Sampling, as the executable's flags: temperature 0 is greedy (argmax);
 * otherwise softmax(logits / temperature) restricted to the top_k best
 * (0: all), then to the smallest prefix of mass >= top_p. */
typedef struct hymba_sampling {
  float temperature; /* [0, 100]; default 0 */
  int32_t top_k;     /* >= 0; default 0 */
  float top_p;       /* [0, 1]; default 1 */
  uint64_t seed;     /* default 0 */
} hymba_sampling;
hymba_sampling hymba_sampling_default(void);
/* Sets the session's sampler (and reseeds it). */
hymba_status hymba_session_set_sampling(hymba_session *session,
                                        const hymba_sampling *sampling);
/* Picks the next token from hymba_session_logits (does not feed it). */
hymba_status hymba_session_sample(hymba_session *session, int32_t *token);

/* Convenience: tokenizes `prompt` (with BOS), feeds it, then samples and
 * feeds up to `max_tokens` tokens, stopping at EOS (not reported) or at the
 * capacity. `on_text` receives the text as it becomes complete (a piece may
 * be empty; UTF-8 characters are never split) and returns non-zero to stop.
 * The session must be empty. *generated (may be NULL) counts the tokens. */
typedef int (*hymba_text_callback)(const char *piece, size_t length,
                                   void *user);
hymba_status hymba_generate(hymba_session *session, const char *prompt,
                            int64_t max_tokens, hymba_text_callback on_text,
                            void *user, int64_t *generated);

/* Serves the model over HTTP with an OpenAI-compatible API (/v1/completions,
 * /v1/chat/completions, /v1/models, /health) until SIGINT or SIGTERM, as
 * `exe --serve` does. `host` NULL: 127.0.0.1. Blocks. */
typedef struct hymba_server_options {
  const char *host;
  int port;               /* 0: pick a free port (printed on stderr) */
  int sessions;           /* sequences decoded interleaved; default 2 */
  int queue;              /* requests waiting beyond those; default 16 */
  const char *model_name; /* /v1/models id; default "hymba" */
} hymba_server_options;
hymba_server_options hymba_server_options_default(void);
hymba_status hymba_serve(hymba_model *model,
                         const hymba_server_options *options);

#ifdef __cplusplus
}
#endif

#endif /* HYMBA_HYMBA_H */
