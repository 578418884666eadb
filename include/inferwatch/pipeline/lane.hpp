#pragma once

namespace inferwatch::pipeline {

// Interactive requests (POST /v1/infer) go ahead of the folder backlog.
enum class Lane { interactive, backlog };

}  // namespace inferwatch::pipeline
