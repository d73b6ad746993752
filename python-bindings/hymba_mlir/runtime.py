"""Run models compiled by hymba-compile from Python.

    import hymba_mlir.runtime as hr
    m = hr.load("kjv/")                       # hymba-compile --emit=lib -o kjv
    m.logits([1, 450, 7483])                  # numpy float32 [3, vocab]
    for piece in m.generate("And God said", max_tokens=32):
        print(piece, end="", flush=True)
    s = m.session(); s.feed(ids); s.sample(); s.feed([tok]) ...
    m.perplexity(open("heldout.txt").read(), ctx=128)

`load` takes a library (the directory --emit=lib wrote, its libNAME.so or
its NAME.hymba) and calls the C API of include/hymba/hymba.h through ctypes;
or an executable, which it runs as a subprocess for logits (--logits-out),
generate (--prompt) and perplexity (--perplexity); sessions need the
library. Errors raise HymbaError with the runtime's message. Only numpy is
needed (no MLIR, no torch); the model math is the compiled code's.
"""
import codecs
import ctypes
import glob
import math
import os
import re
import subprocess
import tempfile

import numpy as np

__all__ = ["load", "HymbaError", "LibraryModel", "ExecutableModel", "Session"]

_STATUS = {0: "ok", 1: "invalid argument", 2: "I/O", 3: "capacity",
           4: "out of memory", 5: "device", 6: "no tokenizer",
           7: "buffer too small", 8: "state"}


class HymbaError(RuntimeError):
    """A failure reported by the runtime; `status` is its hymba_status."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class _Sampling(ctypes.Structure):
    _fields_ = [("temperature", ctypes.c_float), ("top_k", ctypes.c_int32),
                ("top_p", ctypes.c_float), ("seed", ctypes.c_uint64)]


def _bind(lib):
    """Declares the C API's signatures on a loaded library."""
    P, I32, I64, SZ = ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_size_t
    ST = ctypes.c_int
    sig = {
        "hymba_api_version": (ctypes.c_int, []),
        "hymba_last_error": (ctypes.c_char_p, []),
        "hymba_model_open": (ST, [ctypes.c_char_p, ctypes.POINTER(P)]),
        "hymba_model_close": (None, [P]),
        "hymba_model_vocab_size": (I64, [P]),
        "hymba_model_max_seq_len": (I64, [P]),
        "hymba_model_bos": (I32, [P]),
        "hymba_model_eos": (I32, [P]),
        "hymba_model_has_tokenizer": (ctypes.c_int, [P]),
        "hymba_tokenize": (ST, [P, ctypes.c_char_p, SZ, ctypes.c_int,
                                ctypes.POINTER(I32), SZ, ctypes.POINTER(SZ)]),
        "hymba_detokenize": (ST, [P, ctypes.POINTER(I32), SZ, ctypes.c_char_p,
                                  SZ, ctypes.POINTER(SZ)]),
        "hymba_session_create": (ST, [P, ctypes.POINTER(P)]),
        "hymba_session_free": (None, [P]),
        "hymba_session_reset": (ST, [P]),
        "hymba_session_length": (I64, [P]),
        "hymba_session_feed": (ST, [P, ctypes.POINTER(I32), SZ,
                                    ctypes.POINTER(ctypes.c_float)]),
        "hymba_session_logits": (ctypes.POINTER(ctypes.c_float), [P]),
        "hymba_session_set_sampling": (ST, [P, ctypes.POINTER(_Sampling)]),
        "hymba_session_sample": (ST, [P, ctypes.POINTER(I32)]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


def _ids_array(ids):
    ids = [int(i) for i in ids]
    return (ctypes.c_int32 * max(len(ids), 1))(*ids), len(ids)


def chat_prompt(messages):
    """The Instruct chat template (lib/Runtime/ChatTemplate.cpp)."""
    s = "<extra_id_0>System"
    first = 0
    if messages and messages[0]["role"] == "system":
        if messages[0]["content"]:
            s += "\n" + messages[0]["content"]
        first = 1
    s += "\n\n"
    for m in messages[first:]:
        s += ("<extra_id_1>User\n" if m["role"] == "user"
              else "<extra_id_1>Assistant\n") + m["content"] + "\n"
    return s + "<extra_id_1>Assistant\n"


class _TextStream:
    """Streams text as tokens arrive, like lib/Runtime/TextStream.cpp: each
    step decodes the new tokens after a few of context and holds back a
    character whose bytes have not all arrived (U+FFFD)."""

    CONTEXT = 4

    def __init__(self, detokenize, context):
        self.detok = detokenize
        self.ids = list(context[-self.CONTEXT:])
        self.prefix, self.read = 0, len(self.ids)

    def _pending(self):
        before = self.detok(self.ids[self.prefix:self.read])
        allt = self.detok(self.ids[self.prefix:])
        return allt[len(before):] if len(allt) > len(before) else ""

    def push(self, token):
        self.ids.append(token)
        text = self._pending()
        if not text or text.endswith("\ufffd"):
            return ""
        self.prefix, self.read = self.read, len(self.ids)
        if self.prefix > self.CONTEXT:
            del self.ids[:self.prefix]
            self.read -= self.prefix
            self.prefix = 0
        return text

    def finish(self):
        text = self._pending()
        self.prefix = self.read = len(self.ids)
        return text


class Session:
    """One sequence of a LibraryModel: its own state (KV caches, conv and
    SSM states) and sampler. Sessions of one model are independent."""

    def __init__(self, model):
        self.model = model
        h = ctypes.c_void_p()
        model._check(model._lib.hymba_session_create(model._h, ctypes.byref(h)))
        self._h = h

    def close(self):
        if self._h:
            self.model._lib.hymba_session_free(self._h)
            self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __len__(self):
        return int(self.model._lib.hymba_session_length(self._h))

    def reset(self):
        self.model._check(self.model._lib.hymba_session_reset(self._h))

    def feed(self, ids, all_logits=False):
        """Runs `ids` after the tokens already fed. Returns the logits after
        the last one ([vocab]), or every row ([len(ids), vocab])."""
        arr, n = _ids_array(ids)
        out = None
        if all_logits:
            out = np.empty((n, self.model.vocab_size), dtype=np.float32)
        ptr = (out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
               if out is not None else None)
        self.model._check(self.model._lib.hymba_session_feed(self._h, arr, n, ptr))
        return out if all_logits else self.logits()

    def logits(self):
        p = self.model._lib.hymba_session_logits(self._h)
        if not p:
            raise HymbaError("no logits yet: feed tokens first", 8)
        return np.ctypeslib.as_array(p, shape=(self.model.vocab_size,)).copy()

    def set_sampling(self, temperature=0.0, top_k=0, top_p=1.0, seed=0):
        s = _Sampling(temperature, top_k, top_p, seed)
        self.model._check(
            self.model._lib.hymba_session_set_sampling(self._h, ctypes.byref(s)))

    def sample(self):
        t = ctypes.c_int32()
        self.model._check(self.model._lib.hymba_session_sample(self._h, ctypes.byref(t)))
        return t.value


class LibraryModel:
    """A model compiled with --emit=lib, through its C API."""

    def __init__(self, lib_path, payload_path):
        self._lib = _bind(ctypes.CDLL(os.path.abspath(lib_path)))
        h = ctypes.c_void_p()
        self._check(self._lib.hymba_model_open(payload_path.encode(), ctypes.byref(h)))
        self._h = h
        self.vocab_size = int(self._lib.hymba_model_vocab_size(h))
        self.max_seq_len = int(self._lib.hymba_model_max_seq_len(h))
        self.bos = int(self._lib.hymba_model_bos(h))
        self.eos = int(self._lib.hymba_model_eos(h))
        self.has_tokenizer = bool(self._lib.hymba_model_has_tokenizer(h))
        self._sessions = []

    def _check(self, status):
        if status != 0:
            msg = self._lib.hymba_last_error().decode("utf-8", "replace")
            raise HymbaError(f"{msg} ({_STATUS.get(status, status)})", status)

    def close(self):
        if getattr(self, "_h", None):
            for s in self._sessions:
                s.close()
            self._lib.hymba_model_close(self._h)
            self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def session(self):
        s = Session(self)
        self._sessions.append(s)
        return s

    def tokenize(self, text, add_bos=False):
        data = text.encode("utf-8")
        n = ctypes.c_size_t()
        cap = len(data) + 2
        buf = (ctypes.c_int32 * cap)()
        self._check(self._lib.hymba_tokenize(self._h, data, len(data), int(add_bos),
                                             buf, cap, ctypes.byref(n)))
        return list(buf[:n.value])

    def detokenize(self, ids):
        arr, n = _ids_array(ids)
        need = ctypes.c_size_t()
        cap = 16 * n + 16
        while True:
            out = ctypes.create_string_buffer(cap)
            st = self._lib.hymba_detokenize(self._h, arr, n, out, cap,
                                            ctypes.byref(need))
            if st == 7:  # buffer too small: the size needed is known
                cap = need.value + 1
                continue
            self._check(st)
            return out.raw[:need.value].decode("utf-8", "replace")

    def logits(self, ids):
        """Logits [len(ids), vocab] of one fresh sequence."""
        with Session(self) as s:
            return s.feed(ids, all_logits=True)

    def generate(self, prompt, max_tokens=32, temperature=0.0, top_k=0,
                 top_p=1.0, seed=0, chat=False, system="", ignore_eos=False):
        """Yields the continuation of `prompt` as text pieces (as the
        executable prints them: `--prompt` with BOS, or `--chat`)."""
        if chat:
            ids = self.tokenize(chat_prompt([{"role": "system", "content": system},
                                             {"role": "user", "content": prompt}]))
        else:
            ids = self.tokenize(prompt, add_bos=True)
        if len(ids) > self.max_seq_len:
            raise HymbaError(f"the prompt has {len(ids)} tokens, more than the "
                             f"{self.max_seq_len} this model holds", 3)
        with Session(self) as s:
            s.set_sampling(temperature, top_k, top_p, seed)
            s.feed(ids)
            text = _TextStream(self.detokenize, ids)
            for step in range(max_tokens):
                tok = s.sample()
                if tok == self.eos and not ignore_eos:
                    break
                piece = text.push(tok)
                if piece:
                    yield piece
                if step + 1 == max_tokens or len(s) >= self.max_seq_len:
                    break
                s.feed([tok])
            rest = text.finish()
            if rest:
                yield rest

    def perplexity(self, text, ctx=128):
        """exe --perplexity: the text tokenized (no BOS), cut into chunks of
        ctx - 1 tokens, each scored after a BOS in a fresh sequence; returns
        exp(mean negative log-likelihood), summed in float64."""
        if ctx < 2 or ctx > self.max_seq_len:
            raise HymbaError(f"ctx must be in [2, {self.max_seq_len}]", 1)
        ids = self.tokenize(text)
        if not ids:
            raise HymbaError("the text has no tokens to score", 1)
        total, step = 0.0, ctx - 1
        with Session(self) as s:
            for start in range(0, len(ids), step):
                chunk = ids[start:start + step]
                s.reset()
                rows = s.feed([self.bos] + chunk[:-1], all_logits=True).astype(np.float64)
                peak = rows.max(axis=1, keepdims=True)
                lse = np.log(np.exp(rows - peak).sum(axis=1)) + peak[:, 0]
                total += float((lse - rows[np.arange(len(chunk)), chunk]).sum())
        return math.exp(total / len(ids))


class ExecutableModel:
    """A compiled executable, run as a subprocess per call."""

    def __init__(self, path):
        self.path = os.path.abspath(path)

    def _run(self, *args):
        r = subprocess.run([self.path, *args], capture_output=True)
        if r.returncode != 0:
            raise HymbaError(r.stderr.decode("utf-8", "replace").strip())
        return r.stdout.decode("utf-8", "replace")

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def session(self):
        raise HymbaError("sessions need the library: hymba-compile --emit=lib")

    def logits(self, ids):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "logits.npy")
            self._run("--tokens", ",".join(str(int(i)) for i in ids), "-n", "0",
                      "--logits-out", out)
            return np.load(out)

    def generate(self, prompt, max_tokens=32, temperature=0.0, top_k=0,
                 top_p=1.0, seed=0, chat=False, system="", ignore_eos=False):
        args = [self.path, "--prompt", prompt, "-n", str(max_tokens),
                "--temperature", repr(float(temperature)), "--top-k", str(top_k),
                "--top-p", repr(float(top_p)), "--seed", str(seed)]
        if chat:
            args += ["--chat", "--system", system]
        if ignore_eos:
            args.append("--ignore-eos")
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dec = codecs.getincrementaldecoder("utf-8")("replace")
        held = ""  # the executable ends its text with a newline of its own
        try:
            while True:
                chunk = proc.stdout.read1(4096)
                if not chunk:
                    break
                text = held + dec.decode(chunk)
                held = text[-1:]
                if text[:-1]:
                    yield text[:-1]
            rest = held + dec.decode(b"", final=True)
            if rest.endswith("\n"):
                rest = rest[:-1]
            if rest:
                yield rest
        finally:
            proc.stdout.close()
            err = proc.stderr.read().decode("utf-8", "replace")
            proc.stderr.close()
            if proc.wait() != 0:
                raise HymbaError(err.strip())

    def perplexity(self, text, ctx=128):
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "text.txt")
            with open(f, "w", encoding="utf-8") as fh:
                fh.write(text)
            out = self._run("--perplexity", f, "--ctx", str(ctx))
        m = re.search(r"^perplexity: ([0-9.eE+-]+|inf|nan)", out, re.M)
        if not m:
            raise HymbaError("unexpected --perplexity output: " + out[-200:])
        return float(m.group(1))


def _is_elf_executable(path):
    with open(path, "rb") as f:
        head = f.read(18)
    # ELF, e_type ET_EXEC (2) or ET_DYN (3, PIE); a shared library is ET_DYN
    # too, so libraries are told apart by their name.
    return head[:4] == b"\x7fELF" and os.access(path, os.X_OK)


def load(path):
    """Opens a compiled model: an --emit=lib directory, its libNAME.so or
    NAME.hymba, or an executable."""
    if not os.path.exists(path):
        raise HymbaError(f"{path}: no such file or directory")
    if os.path.isdir(path):
        libs = sorted(glob.glob(os.path.join(path, "lib*.so")))
        if len(libs) != 1:
            raise HymbaError(f"{path}: expected one lib*.so (hymba-compile "
                             f"--emit=lib), found {len(libs)}")
        path = libs[0]
    base = os.path.basename(path)
    if base.endswith(".so") and base.startswith("lib"):
        payload = os.path.join(os.path.dirname(path), base[3:-3] + ".hymba")
        return LibraryModel(path, payload)
    if base.endswith(".hymba"):
        lib = os.path.join(os.path.dirname(path), "lib" + base[:-6] + ".so")
        if not os.path.exists(lib):
            raise HymbaError(f"{path}: no {lib} beside it")
        return LibraryModel(lib, path)
    if _is_elf_executable(path):
        return ExecutableModel(path)
    raise HymbaError(f"{path}: not a compiled model (an --emit=lib directory, "
                     "libNAME.so, NAME.hymba or an executable)")
