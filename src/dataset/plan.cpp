#include <inferwatch/dataset/plan.hpp>

namespace inferwatch::dataset {

std::string_view to_string(Step step) {
  switch (step) {
    case Step::add:
      return "add";
    case Step::keep:
      return "keep";
    case Step::update:
      return "update";
    case Step::relabel:
      return "relabel";
  }
  return "add";
}

std::string_view folder_of(std::string_view file) {
  const auto slash = file.find('/');
  return slash == std::string_view::npos ? std::string_view{} : file.substr(0, slash);
}

Step plan_step(const ManifestEntry* previous, bool file_present, std::int64_t feedback_id,
               std::string_view folder) {
  if (!previous || !file_present) return Step::add;
  if (previous->feedback_id == feedback_id && folder_of(previous->file) == folder)
    return Step::keep;
  if (folder_of(previous->file) == folder) return Step::update;
  return Step::relabel;
}

}  // namespace inferwatch::dataset
