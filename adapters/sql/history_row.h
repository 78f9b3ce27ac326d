// A step's history as one row (schema 4): the entries a commit adds, written as one JSON array
// and read back into entries. Pure functions: no SOCI here.
//
//   [{"at":1764320400000,"kind":"event","message":"ping","details":{}}, ...]
//
// `at` is milliseconds since the epoch, as in every *_at column; `details` is the entry's
// details object as the engine rendered it.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/step.h"

namespace ombud::sql {

std::string history_entries_text(std::span<const HistoryEntry> entries);

// Throws StoreError when `text` is not an array of such objects (the row was not written by
// history_entries_text, nor by migration 4).
std::vector<HistoryEntry> history_entries_from_text(std::string_view text);

}  // namespace ombud::sql
