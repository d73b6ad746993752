//===- FuzzConfig.cpp - libFuzzer target: the config.json reader ----------===//
//
// Any byte string as config.json. An accepted config must also give the
// tensor list and widths the importer derives from it without overflow
// (UBSan aborts on signed overflow).
//
//===----------------------------------------------------------------------===//
#include "hymba/Import/Checkpoint.h"
#include "hymba/Import/ModelConfig.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<mlir::hymba::ModelConfig> config =
      mlir::hymba::ModelConfig::parse(text, "config.json");
  if (!config) {
    llvm::consumeError(config.takeError());
    return 0;
  }
  // Shapes of every tensor, with their element counts.
  int64_t total = 0;
  for (const auto &[name, shape] : mlir::hymba::expectedTensors(*config)) {
    int64_t n = 1;
    for (int64_t d : shape) {
      if (d <= 0)
        __builtin_trap(); // an accepted config implies positive dims
      n *= d;
    }
    total += n;
  }
  (void)total;
  for (int64_t l = 0; l < config->numLayers; ++l)
    (void)config->inProjRows(l), (void)config->lastKVReader(l);
  return 0;
}
