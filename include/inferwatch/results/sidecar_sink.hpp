#pragma once

// Where the pipeline writes sidecars, as an interface: `FileSidecars` is the real one (the atomic
// writer beside the image); tests use one that fails like a full, read-only or crowded share.

#include <inferwatch/results/sidecar_writer.hpp>
#include <inferwatch/util/result.hpp>

#include <span>
#include <vector>

namespace inferwatch::results {

class SidecarSink {
 public:
  virtual ~SidecarSink() = default;
  // Write every sidecar; one result per write, in order. Error: `sidecar_failed` naming the file.
  virtual std::vector<util::Result<void>> write(std::span<const SidecarWrite> writes) = 0;
};

// The real sidecars: write_sidecars(). Thread-safe: no state.
class FileSidecars final : public SidecarSink {
 public:
  std::vector<util::Result<void>> write(std::span<const SidecarWrite> writes) override {
    return write_sidecars(writes);
  }
};

}  // namespace inferwatch::results
