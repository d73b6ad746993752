//===- LibraryWriter.cpp - hymba-compile --emit=lib -----------------------===//
#include "hymba/Codegen/LibraryWriter.h"
#include "hymba/Codegen/OutputFile.h"
#include "hymba/Runtime/Payload.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstring>

using namespace mlir::hymba;

namespace {
const char kApiHeader[] =
#include "HymbaApiHeader.inc"
    ;

llvm::Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// The objects of the runtime that make the C API: main.cpp's object is the
/// executable's command line, not part of a library.
bool isLibraryMember(llvm::StringRef name) {
  return !name.starts_with("main.cpp.");
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readFile(llvm::StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return fail(path + ": cannot read: " + buf.getError().message());
  return std::move(*buf);
}

/// The executable's payload as a file of its own: the bytes from the
/// parameters on, with the trailer's offsets made relative to the new start
/// (the parameters stay page-aligned at offset 0). Earlier trailers inside
/// the copied bytes are data nobody reads: the runtime reads the last.
llvm::Expected<std::string> extractPayload(llvm::StringRef exe) {
  PayloadTrailer tr;
  if (exe.size() < sizeof(tr))
    return fail("internal error: the executable has no payload");
  std::memcpy(&tr, exe.data() + exe.size() - sizeof(tr), sizeof(tr));
  if (std::memcmp(tr.magic, kPayloadMagic, sizeof(tr.magic)) != 0 ||
      tr.paramsOffset > exe.size() || tr.paramsOffset % kPayloadAlignment)
    return fail("internal error: the executable's payload trailer is bad");
  uint64_t base = tr.paramsOffset;
  tr.paramsOffset -= base;
  tr.tokenizerOffset -= base;
  tr.metadataOffset -= base;
  if (tr.stateSnapshotBytes)
    tr.stateSnapshotOffset -= base;
  std::string out(exe.substr(base, exe.size() - base - sizeof(tr)));
  out.append(reinterpret_cast<const char *>(&tr), sizeof(tr));
  return out;
}

/// Links libNAME.so into `out`: the model object and the runtime's library
/// objects, exporting the hymba_* C API only.
llvm::Error linkShared(const ExecutableSpec &spec, llvm::StringRef out) {
  llvm::Expected<std::string> linker = findLinker();
  if (!linker)
    return linker.takeError();
  llvm::Expected<TempPath> script = TempPath::create("hymba-lib", "map");
  if (!script)
    return script.takeError();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(script->str(), ec);
    if (ec)
      return fail(script->str() + ": " + ec.message());
    os << "{ global: hymba_*; local: *; };\n";
  }
  std::string versionScript = ("-Wl,--version-script=" + script->str()).str();
  std::vector<llvm::StringRef> args = {
      *linker, "-shared", "-o", out, spec.objectPath,
      // Pull the API's objects out of the runtime archive (main's stays).
      "-Wl,--undefined=hymba_model_open", "-Wl,--undefined=hymba_serve",
      spec.runtimeLib, "-lsentencepiece", "-lcpp-httplib", "-pthread",
      versionScript};
  for (const std::string &lib : spec.linkLibs)
    args.push_back(lib);
  appendRuntimeLinkFlags(args);
  llvm::Expected<TempPath> log = TempPath::create("hymba-link", "log");
  if (!log)
    return log.takeError();
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log->str(),
                                                log->str()};
  std::string err;
  if (llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, redirects, 0, 0,
                                &err) == 0)
    return llvm::Error::success();
  std::string text;
  if (auto buf = llvm::MemoryBuffer::getFile(log->str()))
    text = (*buf)->getBuffer().str();
  return fail("linking the shared library with " + *linker + " failed: " + err +
              "\n" + text);
}

/// libNAME.a: the model object and the runtime's library objects.
llvm::Error writeStatic(const ExecutableSpec &spec, llvm::StringRef path,
                        llvm::StringRef name) {
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> runtime =
      readFile(spec.runtimeLib);
  if (!runtime)
    return runtime.takeError();
  llvm::Expected<std::unique_ptr<llvm::object::Archive>> archive =
      llvm::object::Archive::create((*runtime)->getMemBufferRef());
  if (!archive)
    return fail(spec.runtimeLib + ": " + toString(archive.takeError()));
  std::vector<llvm::NewArchiveMember> members;
  llvm::Expected<llvm::NewArchiveMember> model =
      llvm::NewArchiveMember::getFile(spec.objectPath, /*Deterministic=*/true);
  if (!model)
    return model.takeError();
  std::string modelMember = (name + "_model.o").str(); // outlives members
  model->MemberName = modelMember;
  members.push_back(std::move(*model));
  llvm::Error err = llvm::Error::success();
  for (const llvm::object::Archive::Child &child : (*archive)->children(err)) {
    llvm::Expected<llvm::StringRef> childName = child.getName();
    if (!childName)
      return childName.takeError();
    if (!isLibraryMember(*childName))
      continue;
    llvm::Expected<llvm::NewArchiveMember> m =
        llvm::NewArchiveMember::getOldMember(child, /*Deterministic=*/true);
    if (!m)
      return m.takeError();
    members.push_back(std::move(*m));
  }
  if (err)
    return err;
  return writeOutputFile(path, [&](llvm::raw_pwrite_stream &os) {
    return llvm::writeArchiveToStream(
        os, members, llvm::SymtabWritingMode::NormalSymtab,
        llvm::object::Archive::K_GNU, /*Deterministic=*/true, /*Thin=*/false);
  });
}

int64_t metaValue(llvm::StringRef metadata, llvm::StringRef key) {
  llvm::SmallVector<llvm::StringRef> lines;
  metadata.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    auto [k, v] = line.split('=');
    int64_t x;
    if (k == key && !v.getAsInteger(10, x))
      return x;
  }
  return -1;
}

std::string headerText(const ExecutableSpec &spec, llvm::StringRef name) {
  std::string upper = name.upper();
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::formatv(
      "/* {0}.h - a Hymba model compiled by hymba-compile --emit=lib.\n"
      " *\n"
      " * Open it with hymba_model_open({1}_PAYLOAD) (the path of\n"
      " * {0}.hymba, beside the libraries), then use the API below.\n"
      " * Link, shared:  cc app.c -I DIR -L DIR -l{0} -Wl,-rpath,DIR\n"
      " * Link, static:  cc app.c -I DIR DIR/lib{0}.a -lsentencepiece \\\n"
      " *                -lcpp-httplib -L/usr/lib/llvm-22/lib -lomp -lstdc++ "
      "\\\n"
      " *                -lm -pthread -Wl,--wrap=malloc\n"
      " * (--wrap=malloc routes the model code's allocations through a check\n"
      " * that reports an out-of-memory failure by name before exiting; it\n"
      " * is optional.)\n"
      " */\n"
      "#ifndef {1}_H\n#define {1}_H\n\n"
      "#define {1}_PAYLOAD \"{0}.hymba\"\n"
      "#define {1}_VOCAB_SIZE {2}\n"
      "#define {1}_MAX_SEQ_LEN {3}\n\n",
      name, upper, metaValue(spec.metadata, "vocab_size"),
      metaValue(spec.metadata, "max_seq_len"));
  os << kApiHeader << "\n#endif /* " << upper << "_H */\n";
  return s;
}
} // namespace

llvm::Error mlir::hymba::writeLibrary(ExecutableSpec spec,
                                      const Checkpoint &ckpt,
                                      llvm::StringRef dir,
                                      llvm::StringRef name) {
  if (name.empty() ||
      !llvm::all_of(name,
                    [](char c) { return llvm::isAlnum(c) || c == '_'; }) ||
      llvm::isDigit(name.front()))
    return fail("--lib-name '" + name +
                "' must be a C identifier (letters, digits, _)");
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return fail(dir + ": cannot create the directory: " + ec.message());
  if (!llvm::sys::fs::is_directory(dir))
    return fail(dir + ": not a directory");
  auto in = [&](const llvm::Twine &file) {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, file);
    return std::string(p);
  };

  // The executable first: it computes the folded prefix state.
  llvm::Expected<TempPath> exe = TempPath::create("hymba-lib", "exe");
  if (!exe)
    return exe.takeError();
  spec.outputPath = exe->str().str();
  spec.layoutPath.clear();
  if (llvm::Error e = writeExecutable(spec, ckpt))
    return e;
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> exeBytes =
      readFile(spec.outputPath);
  if (!exeBytes)
    return exeBytes.takeError();
  llvm::Expected<std::string> payload =
      extractPayload((*exeBytes)->getBuffer());
  if (!payload)
    return payload.takeError();
  if (llvm::Error e = writeOutputFile(in(name + ".hymba"),
                                      [&](llvm::raw_pwrite_stream &os) {
                                        os << *payload;
                                        return llvm::Error::success();
                                      }))
    return e;

  llvm::Expected<TempPath> shared = TempPath::create("hymba-lib", "so");
  if (!shared)
    return shared.takeError();
  if (llvm::Error e = linkShared(spec, shared->str()))
    return e;
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> so =
      readFile(shared->str());
  if (!so)
    return so.takeError();
  if (llvm::Error e = writeOutputFile(
          in("lib" + name + ".so"),
          [&](llvm::raw_pwrite_stream &os) {
            os << (*so)->getBuffer();
            return llvm::Error::success();
          },
          0755))
    return e;
  if (llvm::Error e = writeStatic(spec, in("lib" + name + ".a"), name))
    return e;
  std::string header = headerText(spec, name);
  return writeOutputFile(in(name + ".h"), [&](llvm::raw_pwrite_stream &os) {
    os << header;
    return llvm::Error::success();
  });
}
