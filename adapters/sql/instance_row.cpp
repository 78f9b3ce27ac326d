#include "adapters/sql/instance_row.h"

namespace ombud::sql {

SlaColumns sla_columns(const Instance& instance) {
  SlaColumns out;
  for (const SlaClock& clock : instance.slas) {
    if (clock.status == SlaClock::Status::running && (!out.due_at || clock.due_at < *out.due_at)) {
      out.due_at = clock.due_at;
    }
    if (clock.breached || clock.status == SlaClock::Status::breached) out.breached = true;
  }
  return out;
}

}  // namespace ombud::sql
