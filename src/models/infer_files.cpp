#include <inferwatch/models/infer_files.hpp>

#include <inferwatch/util/file.hpp>

#include <algorithm>

namespace inferwatch::models {

void infer_files(Engine& engine, std::span<const std::filesystem::path> files,
                 std::int64_t max_file_bytes, std::size_t batch_size,
                 const std::function<void(results::Record)>& emit) {
  batch_size = std::max<std::size_t>(1, batch_size);
  for (std::size_t first = 0; first < files.size(); first += batch_size) {
    const std::size_t last = std::min(files.size(), first + batch_size);
    std::vector<Input> inputs(last - first);
    for (std::size_t i = first; i < last; ++i) {
      Input& input = inputs[i - first];
      input.path = files[i].string();
      auto bytes = util::read_file(files[i], max_file_bytes);
      if (bytes) {
        input.prepared = engine.prepare(*bytes);
      } else {
        input.prepared.input = bytes.error();
      }
    }
    std::vector<Input*> batch;
    for (auto& input : inputs) batch.push_back(&input);
    for (auto& record : engine.run(batch)) emit(std::move(record));
  }
}

}  // namespace inferwatch::models
