//===- Server.cpp - OpenAI-compatible HTTP server (hymba_serve) -----------===//
//
// `exe --serve` and hymba_serve(): /v1/completions, /v1/chat/completions,
// /v1/models and /health over cpp-httplib, JSON by nlohmann-json.
//
// Concurrency: `sessions` sequences are decoded interleaved, each in its own
// session (state arena) from a pool made at start-up; their model calls go
// to one model thread in arrival order (ModelThread.h), so active requests
// take turns token by token (prefill in chunks of kPrefillChunk tokens).
// There is no batching: with k requests active each gets about 1/k of the
// single-request speed, and the pool costs `sessions` state arenas of
// memory. Up to `queue` more requests wait for a session; beyond that the
// answer is 503. A streamed request whose client disconnects stops at the
// next token (the write fails); a non-streamed one is sent as a chunked
// response so the same check applies.
//
// SIGINT/SIGTERM: stop listening, answer new requests 503, let requests in
// flight finish, then return.
//
//===----------------------------------------------------------------------===//

#include "ApiTypes.h"
#include "ChatTemplate.h"
#include "ModelThread.h"
#include "StopFilter.h"
#include "TextStream.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <pthread.h>
#include <random>

using namespace mlir::hymba;
using json = nlohmann::json;

namespace {
constexpr size_t kPrefillChunk = 128;
constexpr size_t kMaxBodyBytes = 8 << 20;
constexpr size_t kMaxStops = 4;

/// A request refused before it runs: HTTP status and OpenAI-style error.
struct ApiError {
  int status;
  std::string message, type, param, code;
};

/// JSON text; invalid UTF-8 (a request path, a byte-level token) becomes
/// U+FFFD instead of an exception.
std::string text(const json &j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json errorBody(const ApiError &e) {
  json err = {{"message", e.message},
              {"type", e.type},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"code", e.code.empty() ? json(nullptr) : json(e.code)}};
  return {{"error", err}};
}

ApiError badRequest(const std::string &param, const std::string &message) {
  return {400, message, "invalid_request_error", param, ""};
}

/// What a completion request asks for, validated.
struct Job {
  bool chat = false, stream = false, includeUsage = false;
  std::vector<int32_t> prompt;
  int64_t maxTokens = 16;
  hymba_sampling sampling = hymba_sampling_default();
  std::vector<std::string> stops;
};

/// The parts of the request body both endpoints share.
std::optional<ApiError> readCommon(const json &body, Job &job) {
  if (body.contains("max_tokens") && !body["max_tokens"].is_null()) {
    const json &v = body["max_tokens"];
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      return badRequest("max_tokens", "max_tokens must be an integer >= 0");
    job.maxTokens = v.get<int64_t>();
  } else if (job.chat) {
    job.maxTokens = INT64_MAX; // OpenAI: up to the context length
  }
  // OpenAI's default temperature is 1; temperature 0 is greedy (argmax),
  // the executable's default.
  job.sampling.temperature = 1.0f;
  auto number = [](float v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", double(v));
    return std::string(buf);
  };
  auto inRange = [&](const char *key, float lo, float hi,
                     float &out) -> std::optional<ApiError> {
    if (!body.contains(key) || body[key].is_null())
      return std::nullopt;
    const json &v = body[key];
    double d = v.is_number() ? v.get<double>() : -1.0;
    if (!v.is_number() || !(d >= lo && d <= hi))
      return badRequest(key, std::string(key) + " must be a number in [" +
                                 number(lo) + ", " + number(hi) + "]");
    out = float(d);
    return std::nullopt;
  };
  if (auto e = inRange("temperature", 0.0f, 100.0f, job.sampling.temperature))
    return e;
  if (auto e = inRange("top_p", 0.0f, 1.0f, job.sampling.top_p))
    return e;
  if (body.contains("top_k") && !body["top_k"].is_null()) { // llama.cpp's
    const json &v = body["top_k"];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
        v.get<int64_t>() > INT32_MAX)
      return badRequest("top_k", "top_k must be an integer >= 0");
    job.sampling.top_k = int32_t(v.get<int64_t>());
  }
  if (body.contains("seed") && !body["seed"].is_null()) {
    const json &v = body["seed"];
    if (!v.is_number_integer())
      return badRequest("seed", "seed must be an integer");
    job.sampling.seed =
        v.is_number_unsigned() ? v.get<uint64_t>() : uint64_t(v.get<int64_t>());
  } else {
    job.sampling.seed = std::random_device{}();
  }
  if (body.contains("stop") && !body["stop"].is_null()) {
    const json &v = body["stop"];
    std::vector<json> items =
        v.is_array() ? v.get<std::vector<json>>() : std::vector<json>{v};
    if (items.size() > kMaxStops)
      return badRequest("stop", "stop holds at most 4 strings");
    for (const json &s : items) {
      if (!s.is_string())
        return badRequest("stop", "stop must be a string or an array of "
                                  "strings");
      if (!s.get<std::string>().empty())
        job.stops.push_back(s.get<std::string>());
    }
  }
  if (body.contains("n") && !body["n"].is_null() &&
      !(body["n"].is_number_integer() && body["n"].get<int64_t>() == 1))
    return badRequest("n", "only n = 1 is supported");
  if (body.contains("stream") && !body["stream"].is_null()) {
    if (!body["stream"].is_boolean())
      return badRequest("stream", "stream must be true or false");
    job.stream = body["stream"].get<bool>();
  }
  if (body.contains("stream_options") && body["stream_options"].is_object() &&
      body["stream_options"].contains("include_usage"))
    job.includeUsage = body["stream_options"]["include_usage"] == true;
  if (body.contains("model") && !body["model"].is_string())
    return badRequest("model", "model must be a string");
  return std::nullopt;
}

/// A chat message's content: a string or an array of text parts.
std::optional<std::string> contentText(const json &c) {
  if (c.is_string())
    return c.get<std::string>();
  if (!c.is_array())
    return std::nullopt;
  std::string text;
  for (const json &part : c) {
    if (!part.is_object() || part.value("type", "") != "text" ||
        !part.contains("text") || !part["text"].is_string())
      return std::nullopt;
    text += part["text"].get<std::string>();
  }
  return text;
}

/// The bounded pool of sessions: admission (503 beyond the queue) and
/// hand-out in arrival order.
class SessionPool {
public:
  SessionPool(size_t queueLimit) : queueLimit(queueLimit) {}
  ~SessionPool() {
    for (hymba_session *s : all)
      hymba_session_free(s);
  }
  void add(hymba_session *s) {
    all.push_back(s);
    idle.push_back(s);
  }

  /// A session, after waiting for one; null (503) when the queue is full or
  /// the server is stopping.
  std::shared_ptr<hymba_session> acquire() {
    std::unique_lock<std::mutex> lock(mutex);
    if (stopping || (idle.empty() && waiting >= queueLimit))
      return nullptr;
    ++waiting;
    ready.wait(lock, [&] { return !idle.empty(); });
    --waiting;
    hymba_session *s = idle.front();
    idle.erase(idle.begin());
    return std::shared_ptr<hymba_session>(s, [this](hymba_session *done) {
      {
        std::lock_guard<std::mutex> l(mutex);
        idle.push_back(done);
      }
      ready.notify_one();
    });
  }

  void stop() {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  bool isStopping() {
    std::lock_guard<std::mutex> lock(mutex);
    return stopping;
  }

private:
  std::mutex mutex;
  std::condition_variable ready;
  std::vector<hymba_session *> all, idle;
  size_t waiting = 0, queueLimit;
  bool stopping = false;
};

sigset_t stopSignalSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

/// A content provider that cannot throw into httplib's worker thread (an
/// exception there would end the process): a failure closes the
/// connection.
template <typename F> httplib::ContentProviderWithoutLength guarded(F body) {
  return [body](size_t offset, httplib::DataSink &sink) {
    try {
      return body(offset, sink);
    } catch (const std::exception &e) {
      std::fprintf(stderr, "hymba: request failed: %s\n", e.what());
      return false;
    }
  };
}

class Server {
public:
  Server(hymba_model &model, const hymba_server_options &opts)
      : model(model), pool(size_t(opts.queue)),
        modelName(opts.model_name ? opts.model_name : "hymba") {}

  hymba_status run(const hymba_server_options &opts);

private:
  void routes();
  void reply(httplib::Response &res, const ApiError &e) {
    res.status = e.status;
    res.set_content(text(errorBody(e)), "application/json");
  }
  void completion(const httplib::Request &req, httplib::Response &res,
                  bool chat);
  std::optional<ApiError> parse(const httplib::Request &req, bool chat,
                                Job &job);
  /// Runs `job` on `s`; `emit` gets text pieces and returns false to stop
  /// (client gone). Returns the finish reason and counts the tokens.
  /// On "error", `error` says what failed.
  std::string generate(hymba_session &s, const Job &job,
                       const std::function<bool(const std::string &)> &emit,
                       int64_t &completionTokens, std::string &error);
  /// generate() with log lines on stderr: when it starts, then tokens,
  /// finish reason and time.
  std::string logged(const std::string &id, hymba_session &s, const Job &job,
                     const std::function<bool(const std::string &)> &emit,
                     int64_t &completionTokens, std::string &error) {
    std::fprintf(stderr, "hymba: %s: started, %zu prompt tokens\n",
                 id.c_str(), job.prompt.size());
    auto t0 = std::chrono::steady_clock::now();
    std::string reason = generate(s, job, emit, completionTokens, error);
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    std::fprintf(stderr,
                 "hymba: %s: %zu prompt tokens, %lld generated, %s, %.3f s\n",
                 id.c_str(), job.prompt.size(), (long long)completionTokens,
                 reason.c_str(), secs);
    return reason;
  }

  hymba_model &model;
  SessionPool pool;
  ModelThread modelThread;
  std::string modelName;
  httplib::Server http;
  std::atomic<uint64_t> requestCounter{0};
};

std::optional<ApiError> Server::parse(const httplib::Request &req, bool chat,
                                      Job &job) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return badRequest("", "the request body is not valid JSON");
  if (!body.is_object())
    return badRequest("", "the request body must be a JSON object");
  job.chat = chat;
  if (auto e = readCommon(body, job))
    return e;
  const Tokenizer &tok = model.tokenizer;
  if (chat) {
    if (!body.contains("messages") || !body["messages"].is_array() ||
        body["messages"].empty())
      return badRequest("messages", "messages must be a non-empty array");
    std::vector<ChatMessage> msgs;
    for (const json &m : body["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
          !m.contains("content"))
        return badRequest("messages",
                          "each message needs a string role and a content");
      std::string role = m["role"].get<std::string>();
      if (role != "system" && role != "user" && role != "assistant")
        return badRequest("messages", "unsupported role '" + role +
                                          "' (system, user or assistant)");
      if (role == "system" && !msgs.empty())
        return badRequest("messages", "a system message may only come first");
      std::optional<std::string> text = contentText(m["content"]);
      if (!text)
        return badRequest("messages", "content must be a string or an array "
                                      "of text parts");
      msgs.push_back({role, *text});
    }
    job.prompt = tok.encode(chatPrompt(msgs));
  } else {
    if (!body.contains("prompt"))
      return badRequest("prompt", "prompt is required");
    const json &p = body["prompt"];
    std::string text;
    if (p.is_string())
      text = p.get<std::string>();
    else if (p.is_array() && p.size() == 1 && p[0].is_string())
      text = p[0].get<std::string>();
    else
      return badRequest("prompt", "prompt must be a string (or an array of "
                                  "one string)");
    job.prompt = tok.encode(text);
    job.prompt.insert(job.prompt.begin(), hymba_model_bos(&model));
  }
  int64_t capacity = hymba_model_max_seq_len(&model);
  if (int64_t(job.prompt.size()) > capacity)
    return ApiError{413,
                    "the prompt has " + std::to_string(job.prompt.size()) +
                        " tokens, more than the " + std::to_string(capacity) +
                        " this model holds",
                    "invalid_request_error", chat ? "messages" : "prompt",
                    "context_length_exceeded"};
  return std::nullopt;
}

std::string
Server::generate(hymba_session &s, const Job &job,
                 const std::function<bool(const std::string &)> &emit,
                 int64_t &completionTokens, std::string &error) {
  completionTokens = 0;
  // hymba_last_error is per thread: read it on the thread that failed.
  auto onModel = [&](const int32_t *ids, size_t n) {
    return modelThread.run<hymba_status>([&] {
      hymba_status st = hymba_session_feed(&s, ids, n, nullptr);
      if (st != HYMBA_OK)
        error = hymba_last_error();
      return st;
    });
  };
  if (hymba_session_reset(&s) != HYMBA_OK ||
      hymba_session_set_sampling(&s, &job.sampling) != HYMBA_OK) {
    error = hymba_last_error();
    return "error";
  }
  for (size_t i = 0; i < job.prompt.size(); i += kPrefillChunk)
    if (onModel(job.prompt.data() + i,
                std::min(kPrefillChunk, job.prompt.size() - i)) != HYMBA_OK)
      return "error";
  TextStream text(model.tokenizer, job.prompt);
  StopFilter stops(job.stops);
  int32_t eos = hymba_model_eos(&model);
  int64_t capacity = hymba_model_max_seq_len(&model);
  bool stopped = false;
  std::string reason = "length";
  for (int64_t step = 0; step < job.maxTokens; ++step) {
    int32_t id;
    if (hymba_session_sample(&s, &id) != HYMBA_OK) {
      error = hymba_last_error();
      return "error";
    }
    if (id == eos) {
      reason = "stop";
      break;
    }
    ++completionTokens;
    std::string piece = stops.push(text.push(id), stopped);
    if (!piece.empty() && !emit(piece))
      return "cancelled";
    if (stopped)
      return "stop";
    if (step + 1 == job.maxTokens || hymba_session_length(&s) >= capacity)
      break;
    if (onModel(&id, 1) != HYMBA_OK)
      return "error";
  }
  std::string rest = stops.push(text.finish(), stopped);
  if (stopped)
    reason = "stop";
  else
    rest += stops.finish();
  if (!rest.empty() && !emit(rest))
    return "cancelled";
  return reason;
}

void Server::completion(const httplib::Request &req, httplib::Response &res,
                        bool chat) {
  auto job = std::make_shared<Job>();
  if (std::optional<ApiError> e = parse(req, chat, *job))
    return reply(res, *e);
  std::shared_ptr<hymba_session> session = pool.acquire();
  if (!session)
    return reply(res, {503,
                       pool.isStopping()
                           ? "the server is shutting down"
                           : "the server is busy: every session is in use "
                             "and the queue is full; retry later",
                       "server_error", "", "overloaded"});
  std::string id = std::string(chat ? "chatcmpl-" : "cmpl-") +
                   std::to_string(++requestCounter);
  int64_t created = int64_t(std::time(nullptr));
  std::string object = chat ? "chat.completion" : "text_completion";
  auto usage = [job](int64_t completion) {
    return json{{"prompt_tokens", job->prompt.size()},
                {"completion_tokens", completion},
                {"total_tokens", int64_t(job->prompt.size()) + completion}};
  };
  auto choice = [chat](const std::string &text, const json &finish,
                       bool delta) {
    json c = {{"index", 0}, {"finish_reason", finish}};
    if (!chat) {
      c["text"] = text;
      c["logprobs"] = nullptr;
    } else if (delta) {
      c["delta"] = text.empty() && !finish.is_null() ? json::object()
                                                     : json{{"content", text}};
    } else {
      c["message"] = {{"role", "assistant"}, {"content", text}};
    }
    return c;
  };
  auto header = [=](const std::string &obj) {
    return json{{"id", id},
                {"object", obj},
                {"created", created},
                {"model", modelName}};
  };

  if (job->stream) {
    std::string chunkObject = chat ? "chat.completion.chunk" : object;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream", guarded([=](size_t, httplib::DataSink &sink) {
          auto event = [&](const json &j) {
            std::string line = "data: " + text(j) + "\n\n";
            return sink.write(line.data(), line.size());
          };
          bool ok = true;
          if (chat) {
            json first = header(chunkObject);
            first["choices"] = {
                {{"index", 0},
                 {"delta", {{"role", "assistant"}, {"content", ""}}},
                 {"finish_reason", nullptr}}};
            ok = event(first);
          }
          int64_t tokens = 0;
          std::string error;
          std::string reason =
              !ok ? "cancelled"
                  : logged(
                        id, *session, *job,
                        [&](const std::string &piece) {
                          json j = header(chunkObject);
                          j["choices"] = {choice(piece, nullptr, true)};
                          return event(j);
                        },
                        tokens, error);
          if (reason == "cancelled")
            return false; // the client is gone: close the connection
          if (reason == "error") {
            json j = errorBody({500, error, "server_error", "", ""});
            event(j);
          } else {
            json last = header(chunkObject);
            last["choices"] = {choice("", reason, true)};
            if (job->includeUsage)
              last["usage"] = nullptr;
            event(last);
            if (job->includeUsage) {
              json u = header(chunkObject);
              u["choices"] = json::array();
              u["usage"] = usage(tokens);
              event(u);
            }
          }
          static const char done[] = "data: [DONE]\n\n";
          sink.write(done, sizeof(done) - 1);
          sink.done();
          return true;
        }));
    return;
  }
  // Not streamed: still generated inside the content provider, so a client
  // that disconnects is noticed (the connection stops being writable).
  res.set_chunked_content_provider(
      "application/json", guarded([=](size_t, httplib::DataSink &sink) {
        std::string reply, error;
        int64_t tokens = 0;
        std::string reason = logged(
            id, *session, *job,
            [&](const std::string &piece) {
              reply += piece;
              return sink.is_writable();
            },
            tokens, error);
        if (reason == "cancelled")
          return false;
        json j;
        if (reason == "error") {
          j = errorBody({500, error, "server_error", "", ""});
        } else {
          j = header(object);
          j["choices"] = {choice(reply, reason, false)};
          j["usage"] = usage(tokens);
        }
        std::string s = text(j);
        sink.write(s.data(), s.size());
        sink.done();
        return true;
      }));
}

void Server::routes() {
  http.Get("/health", [](const httplib::Request &, httplib::Response &res) {
    res.set_content(text(json{{"status", "ok"}}), "application/json");
  });
  http.Get("/v1/models",
           [this](const httplib::Request &, httplib::Response &res) {
             json m = {{"id", modelName},
                       {"object", "model"},
                       {"created", 0},
                       {"owned_by", "hymba-mlir"},
                       {"max_seq_len", hymba_model_max_seq_len(&model)}};
             res.set_content(text(json{{"object", "list"}, {"data", {m}}}),
                             "application/json");
           });
  http.Post("/v1/completions",
            [this](const httplib::Request &req, httplib::Response &res) {
              completion(req, res, /*chat=*/false);
            });
  http.Post("/v1/chat/completions",
            [this](const httplib::Request &req, httplib::Response &res) {
              completion(req, res, /*chat=*/true);
            });
  // httplib's own refusals (unknown path, body too large) as OpenAI errors.
  http.set_error_handler(
      [this](const httplib::Request &req, httplib::Response &res) {
        if (!res.body.empty())
          return;
        std::string msg =
            res.status == 404 ? "no such endpoint: " + req.path
            : res.status == 413
                ? "the request body is too large (JSON: at most 8 MiB)"
                : "request refused (HTTP " + std::to_string(res.status) + ")";
        reply(res, {res.status, msg, "invalid_request_error", "", ""});
      });
  http.set_exception_handler([this](const httplib::Request &,
                                    httplib::Response &res,
                                    std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception &e) {
      what = e.what();
    } catch (...) {
    }
    reply(res, {500, what, "server_error", "", ""});
  });
  http.set_logger(
      [](const httplib::Request &req, const httplib::Response &res) {
        std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(),
                     res.status);
      });
}

hymba_status Server::run(const hymba_server_options &opts) {
  if (!model.hasTokenizer)
    return fail(HYMBA_ERR_NO_TOKENIZER,
                "--serve needs the tokenizer, and this model was compiled "
                "without tokenizer.model");
  for (int i = 0; i < opts.sessions; ++i) {
    hymba_session *s = nullptr;
    if (hymba_session_create(&model, &s) != HYMBA_OK)
      return HYMBA_ERR_OUT_OF_MEMORY; // the message is set
    pool.add(s);
  }
  routes();
  http.set_payload_max_length(kMaxBodyBytes);
  // Streamed tokens are small writes: send each at once (no Nagle delay).
  http.set_tcp_nodelay(true);
  // Enough threads that waiting requests do not hold up /health.
  size_t threads = size_t(opts.sessions + opts.queue + 4);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  std::string host = opts.host ? opts.host : "127.0.0.1";
  int port = opts.port;
  if (port == 0)
    port = http.bind_to_any_port(host);
  else if (!http.bind_to_port(host, port))
    port = -1;
  if (port <= 0)
    return fail(HYMBA_ERR_IO, "cannot listen on " + host + ":" +
                                  std::to_string(opts.port) + ": " +
                                  std::strerror(errno));

  // hymba_serve blocked SIGINT/SIGTERM in every thread of the server; this
  // one takes them.
  sigset_t stopSignals = stopSignalSet();
  std::signal(SIGPIPE, SIG_IGN); // a vanished client is a failed write
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    timespec tick = {0, 100 * 1000 * 1000};
    while (!finished) {
      int sig = sigtimedwait(&stopSignals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        std::fprintf(stderr,
                     "hymba: signal %d: finishing the requests in "
                     "flight, then exiting\n",
                     sig);
        pool.stop();
        http.stop();
        return;
      }
    }
  });
  std::fprintf(
      stderr, "hymba: serving %s on http://%s:%d (%d sessions, queue %d)\n",
      modelName.c_str(), host.c_str(), port, opts.sessions, opts.queue);
  std::fflush(stderr);
  bool ok = http.listen_after_bind();
  finished = true;
  watcher.join();
  if (!ok && !pool.isStopping())
    return fail(HYMBA_ERR_IO, "the server stopped unexpectedly");
  std::fprintf(stderr, "hymba: server stopped\n");
  return HYMBA_OK;
}
} // namespace

extern "C" hymba_server_options hymba_server_options_default(void) {
  hymba_server_options o;
  o.host = "127.0.0.1";
  o.port = 8080;
  o.sessions = 2;
  o.queue = 16;
  o.model_name = "hymba";
  return o;
}

extern "C" hymba_status hymba_serve(hymba_model *model,
                                    const hymba_server_options *options) {
  try {
    if (!model)
      return fail(HYMBA_ERR_INVALID_ARGUMENT, "hymba_serve: the model is NULL");
    hymba_server_options opts =
        options ? *options : hymba_server_options_default();
    if (opts.sessions < 1 || opts.sessions > 64 || opts.queue < 0 ||
        opts.queue > 4096 || opts.port < 0 || opts.port > 65535)
      return fail(HYMBA_ERR_INVALID_ARGUMENT,
                  "hymba_serve: sessions must be in [1, 64], queue in [0, "
                  "4096], port in [0, 65535]");
    // SIGINT/SIGTERM are blocked before the server starts any thread (the
    // model thread, httplib's pool), so only its watcher takes them;
    // restored on return.
    sigset_t stopSignals = stopSignalSet(), oldMask;
    pthread_sigmask(SIG_BLOCK, &stopSignals, &oldMask);
    hymba_status st;
    {
      Server server(*model, opts);
      st = server.run(opts);
    }
    pthread_sigmask(SIG_SETMASK, &oldMask, nullptr);
    return st;
  } catch (const std::bad_alloc &) {
    return fail(HYMBA_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception &e) {
    return fail(HYMBA_ERR_IO, std::string("server: ") + e.what());
  }
}
