#pragma once

// Feedback on results over REST (SPEC §11); private to server/.

#include <inferwatch/server/api.hpp>
#include <inferwatch/store/reader.hpp>

#include <span>

namespace inferwatch::server {

// POST /v1/results/{id}/feedback.
void add_feedback_routes(Router& router, const ApiContext& context);

// Add `"feedback": {…}` to the JSON of each row that has any (one query for all of them); the
// stored §5 text is otherwise left as it is. Error: the feedback store's.
util::Result<void> splice_feedback(const ApiContext& context, std::span<store::StoredJson> rows);

}  // namespace inferwatch::server
