// Notification texts: a template of the config (`templates:`) with `${ expression }`
// placeholders, filled from a case as it is at the end of the step that notifies.
//
//   subject: "Complaint ${ instance.id } is yours (priority ${ instance.priority })"
//
// Placeholders see `data.*`, `instance.*` and `now`, as a workflow's expressions do. A
// placeholder that fails at run time leaves `<error: why>` in the text rather than no message.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config.h"
#include "engine/instance.h"
#include "engine/step.h"

namespace ombud {

// What expressions see as `instance`: id, state, workflow, version, key, assignee, priority,
// created_at.
boost::json::object instance_fields(const Instance& instance);

// The problems of a template text's placeholders, each with its byte offset in `text`: an
// unterminated `${`, or an expression that does not parse.
struct PlaceholderProblem {
  std::size_t offset = 0;
  std::string message;
};
std::vector<PlaceholderProblem> placeholder_problems(std::string_view text);

// Fills `n.subject` and `n.body` from its template in `config` with the case `instance` as the
// step left it (`data_schema`: its workflow's data, for typed fields), at `now`. Without a
// template (none named, or the config lacks it) a default text names the workflow, the case and
// its state.
void render_notification(const Config& config, Notification& n, const Instance& instance,
                         const Schema* data_schema, Timestamp now);

}  // namespace ombud
