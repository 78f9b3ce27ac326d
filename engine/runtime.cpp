#include "engine/runtime.h"

#include <date/tz.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>

#include "engine/fnv1a.h"
#include "engine/templates.h"
#include "engine/time.h"

namespace ombud {

namespace {

// How much later the timer of a case whose workflow version is not loaded here is tried again:
// `ombud serve` loads versions published through other nodes every 5 s.
constexpr auto kUnknownVersionRetry = std::chrono::seconds(10);

class StoreWorkload final : public Workload {
 public:
  explicit StoreWorkload(const Store& store) : store_(store) {}
  int open_cases(std::string_view person) const override { return store_.open_cases(person); }

 private:
  const Store& store_;
};

std::string_view status_name(RuntimeResult::Status s) {
  switch (s) {
    case RuntimeResult::Status::ok:
      return "ok";
    case RuntimeResult::Status::not_handled:
      return "not_handled";
    case RuntimeResult::Status::rejected:
      return "rejected";
    case RuntimeResult::Status::not_found:
      return "not_found";
    case RuntimeResult::Status::conflict:
      return "conflict";
    case RuntimeResult::Status::unavailable:
      return "unavailable";
    case RuntimeResult::Status::key_reused:
      return "key_reused";
    case RuntimeResult::Status::stale_revision:
      return "stale_revision";
  }
  return "ok";
}

// JSON as text that is the same for equal values however they were spelled: members sorted by
// key, and a number with no fraction written as an integer (a client's retry may re-encode its
// map in another order, or 5 as 5.0).
void append_canonical(std::string& out, const boost::json::value& v);

void append_canonical(std::string& out, const boost::json::object& o) {
  std::vector<const boost::json::key_value_pair*> members;
  members.reserve(o.size());
  for (const auto& m : o) members.push_back(&m);
  std::sort(members.begin(), members.end(),
            [](const auto* a, const auto* b) { return a->key() < b->key(); });
  out += '{';
  for (const auto* m : members) {
    out += boost::json::serialize(boost::json::string(m->key()));
    out += ':';
    append_canonical(out, m->value());
    out += ',';
  }
  out += '}';
}

void append_canonical(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object:
      append_canonical(out, v.get_object());
      return;
    case boost::json::kind::array:
      out += '[';
      for (const auto& item : v.get_array()) {
        append_canonical(out, item);
        out += ',';
      }
      out += ']';
      return;
    case boost::json::kind::double_: {
      const double d = v.get_double();
      if (std::trunc(d) == d && std::abs(d) < 9.0e15) {
        out += std::to_string(static_cast<std::int64_t>(d));
        return;
      }
      out += boost::json::serialize(v);
      return;
    }
    default:
      out += boost::json::serialize(v);
  }
}

// What a caller's idempotency key is kept for: the kind of request, what it names, who sent it
// and its data, as FNV-1a 64 in hex (the same in every build, unlike std::hash). A repeat with
// the same key must be the same request; one that differs is refused instead of answered for
// another case or caller. Keys ombud makes itself ("" digest) name what they are for already: a
// phone system's delivery (whose retry may differ in passing) or an inbox entry (which the API
// checks against the case it went into).
std::string request_digest(const std::string& idempotency_key,
                           std::initializer_list<std::string_view> fields,
                           const boost::json::object* data) {
  // A phone system's retry may differ in passing (a new timestamp, a resent form field): its
  // delivery id alone says it is the same delivery, so hook keys keep no digest.
  if (idempotency_key.empty() || idempotency_key.starts_with(kHookKeyPrefix)) return {};
  Fnv1a h;
  // Each field ends with a byte no UTF-8 text holds, so ("ab", "c") and ("a", "bc") differ.
  const auto mix = [&](std::string_view text) {
    h.mix(text);
    h.mix("\xff");
  };
  for (const std::string_view f : fields) mix(f);
  if (data != nullptr) {
    std::string text;
    append_canonical(text, *data);
    mix(text);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t v = h.value();
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kHex[v & 15];
  return out;
}

std::string request_digest(const StartRequest& r) {
  return request_digest(r.idempotency_key, {"start", r.workflow, r.key, r.actor}, &r.data);
}

std::string request_digest(const EventRequest& r) {
  if (r.idempotency_key.starts_with(kInboxKeyPrefix)) {
    // An inbox entry is replayed once, whoever repeats it: the case, event and data are the
    // request, not who sends it. Another case or event under the entry's key is refused.
    return request_digest(r.idempotency_key, {"replay", r.instance_id, r.event}, &r.data);
  }
  return request_digest(r.idempotency_key,
                        {"event", r.instance_id, r.workflow, r.key, r.event, r.actor}, &r.data);
}

std::string request_digest(const AssignRequest& r) {
  return request_digest(r.idempotency_key,
                        {"assign", r.instance_id, r.to, r.queue, r.reason, r.actor}, nullptr);
}

std::string request_digest(const ResolveIncidentRequest& r) {
  return request_digest(
      r.idempotency_key,
      {"resolve_incident", r.instance_id, std::to_string(r.incident), r.note, r.actor}, nullptr);
}

boost::json::object history_json(const HistoryEntry& h) {
  return {{"at", format_timestamp(h.at)},
          {"kind", h.kind},
          {"message", h.message},
          {"details", h.details.object()}};
}

// A value of `schedule.data`: literals as written, expressions evaluated at the scheduled
// instant (only `now` and `instance.*` mean anything there: there is no data yet).
std::optional<boost::json::value> schedule_value(const ValueSpec& spec, Timestamp at,
                                                 std::string& problem) {
  return resolve_value(spec, [&](const Expr& e) -> std::optional<boost::json::value> {
    expr::EvalContext ctx;
    ctx.now = at;
    const expr::EvalResult r = expr::evaluate(*e.ast, ctx);
    if (!r.ok()) {
      problem = "'" + e.text + "' failed: " + r.error.message;
      return std::nullopt;
    }
    return expr::to_json(*r.value);
  });
}

// The first event of `state` (or of the workflow's global ones) that `person` could send only
// as the case's assignee: its `roles:` name the assignee, and none of the others is a role
// `person` holds or a data field naming them. "" when none.
std::string decided_by_assignee(const Definition& def, const Instance& in, const Person* person) {
  static const std::vector<std::string> kNone;
  const std::vector<std::string>& roles = person != nullptr ? person->roles : kNone;
  const std::string id = person != nullptr ? person->id : "";
  auto find = [&](const std::vector<EventHandlers>& handlers) -> std::string {
    for (const EventHandlers& h : handlers) {
      for (const Transition& t : h.transitions) {
        const bool names_assignee =
            std::find(t.roles.begin(), t.roles.end(), kAssigneeRole) != t.roles.end();
        // With no assignee, the other entries alone decide.
        if (names_assignee && !roles_allow(t.roles, roles, id, in.data, "")) return h.event;
      }
    }
    return "";
  };
  const State* s = def.find_state(in.state);
  std::string event = s != nullptr ? find(s->on) : "";
  return event.empty() ? find(def.on) : event;
}

RuntimeResult failure(RuntimeResult::Status status, std::string error) {
  RuntimeResult r;
  r.status = status;
  r.error = std::move(error);
  return r;
}

// Refused when the caller acted on a revision the case is no longer at.
std::optional<RuntimeResult> stale_revision(const Instance& instance,
                                            std::optional<std::uint64_t> seen) {
  if (!seen || instance.revision == *seen) return std::nullopt;
  return failure(RuntimeResult::Status::stale_revision,
                 "case '" + instance.id + "' is at revision " + std::to_string(instance.revision) +
                     ", not " + std::to_string(*seen));
}

// The answer to a supervisor's request that finds the case already as asked: nothing recorded.
RuntimeResult unchanged(Instance instance) {
  RuntimeResult r;
  r.instance = std::move(instance);
  return r;
}

}  // namespace

boost::json::object RuntimeResult::to_json() const {
  boost::json::array entries;
  for (const auto& h : history) entries.push_back(history_json(h));
  boost::json::object o{{"status", status_name(status)}, {"history", std::move(entries)}};
  if (!error.empty()) o["error"] = error;
  if (replayed) o["replayed"] = true;
  if (instance) o["instance"] = ombud::to_json(*instance);
  return o;
}

Runtime::Runtime(Store& store, const Clock& clock, StepContext context, Notifier* notifier)
    : store_(store), clock_(clock), context_(std::move(context)), notifier_(notifier) {}

void Runtime::add_definition(const Definition& def, int version) {
  EventNames& names = event_names_[&def];
  names.handled = def.handled_events();
  for (const std::string& event : def.raised_events()) {
    if (def.event_schema(event) == nullptr) names.internal.insert(event);
  }
  versions_[{def.name, version}] = &def;
  auto& latest = definitions_[def.name];
  if (latest.first == nullptr || version >= latest.second) latest = {&def, version};
}

const Definition* Runtime::definition(const std::string& workflow) const {
  auto it = definitions_.find(workflow);
  return it == definitions_.end() ? nullptr : it->second.first;
}

const Definition* Runtime::definition(const std::string& workflow, int version) const {
  auto it = versions_.find({workflow, version});
  return it == versions_.end() ? nullptr : it->second;
}

StepContext Runtime::context_for(const StepContext* overrides) const {
  StepContext ctx = overrides != nullptr ? *overrides : context_;
  ctx.calendars = context_.calendars;
  ctx.directory = context_.directory;
  ctx.counters = &store_;
  return ctx;
}

std::int64_t Runtime::next_instance_number(const std::string& workflow) {
  // Blocks rather than one counter bumped per start: nodes sharing a database would otherwise
  // all contend on that row. A block left unused when a process stops leaves a gap. Each
  // reservation is a commit of its own (an fsync, and a wait for the writer on SQLite), so a
  // block used up within a second is followed by one twice its size, up to kMaxBlock; one that
  // lasted longer, by the smallest again.
  constexpr std::int64_t kMinBlock = 32;
  constexpr std::int64_t kMaxBlock = 512;
  IdBlock& block = id_blocks_[workflow];
  if (block.next > block.last) {
    // The runtime's clock: a test's or a simulation's manual clock decides as the system's would.
    const Timestamp now = clock_.now();
    const bool busy = block.size > 0 && now - block.reserved_at < std::chrono::seconds(1);
    block.size = busy ? std::min(block.size * 2, kMaxBlock) : kMinBlock;
    block.last = store_.reserve("ids:" + workflow, block.size);
    block.next = block.last - block.size + 1;
    block.reserved_at = now;
  }
  return block.next++;
}

RuntimeResult Runtime::start(const StartRequest& request) {
  return start_at(request, clock_.now());
}

RuntimeResult Runtime::start_at(const StartRequest& request, Timestamp now) {
  const Definition* def = definition(request.workflow);
  if (def == nullptr)
    return failure(RuntimeResult::Status::not_found, "unknown workflow '" + request.workflow + "'");
  const std::string digest = request_digest(request);
  if (auto previous = replayed(request.idempotency_key, digest)) return std::move(*previous);
  const std::int64_t n = next_instance_number(def->name);
  StepContext ctx = context_for(nullptr);
  const StoreWorkload workload(store_);
  ctx.workload = &workload;
  Outcome out = ombud::start(*def, def->name + "-" + std::to_string(n), request.data, now, ctx);
  if (out.result == Outcome::Result::rejected)
    return failure(RuntimeResult::Status::rejected, out.error);
  out.instance.version = definitions_.at(def->name).second;
  if (!request.key.empty()) {
    // A workflow with a `key:` names its cases itself; another key would open a second case for
    // the same customer beside the open one (one_open) and take events meant for neither. Where
    // its key gives nothing (an optional field left out), the caller's fills the gap.
    if (def->key && !out.instance.key.empty() && request.key != out.instance.key) {
      return failure(RuntimeResult::Status::rejected, "key '" + request.key + "': workflow '" +
                                                          def->name +
                                                          "' takes its key from its data ('" +
                                                          out.instance.key + "'); leave 'key' out");
    }
    out.instance.key = request.key;
  }
  const std::string& key = out.instance.key;
  if (!key.empty() && def->key_policy == KeyPolicy::one_open) {
    if (auto open = store_.find_open_by_key(def->name, key)) {
      RuntimeResult r =
          failure(RuntimeResult::Status::rejected,
                  "an open '" + def->name + "' case with key " + key + " exists: " + *open);
      r.instance = store_.load(*open);
      return r;
    }
  }
  if (!key.empty() && def->key_policy == KeyPolicy::unique && store_.key_used(def->name, key)) {
    return failure(
        RuntimeResult::Status::rejected,
        "key " + key + " is already taken: '" + def->name + "' allows one case per key, ever");
  }
  Instance before;
  return apply(before, std::move(out), request.idempotency_key, digest, true, std::nullopt,
               request.actor, {{"start", request.data}});
}

std::optional<RuntimeResult> Runtime::replayed(const std::string& idempotency_key,
                                               const std::string& request) const {
  if (idempotency_key.empty()) return std::nullopt;
  auto previous = store_.idempotent_response(idempotency_key);
  if (!previous) return std::nullopt;
  // Answers kept by builds before the digest, and for ombud's own keys, have none (or "").
  if (const auto* kept = previous->if_contains("request"); kept != nullptr && kept->is_string() &&
                                                           !kept->as_string().empty() &&
                                                           kept->as_string() != request) {
    return failure(RuntimeResult::Status::key_reused,
                   "idempotency key '" + idempotency_key +
                       "' was used for a different request; a retry must repeat the first request "
                       "unchanged, and a new request needs a new key");
  }
  RuntimeResult r;
  r.replayed = true;
  if (const auto* entry = previous->if_contains("inbox"); entry != nullptr && entry->is_number()) {
    boost::system::error_code ec;
    r.inbox_entry = entry->to_number<std::uint64_t>(ec);  // kept by add_to_inbox
    return r;
  }
  // Kept by apply() as {"status", "instance": {"id"}, "request"}. Answers kept by earlier builds
  // hold the whole first answer, which has the same members.
  if (const auto* status = previous->if_contains("status");
      status != nullptr && status->is_string() && status->as_string() == "not_handled") {
    r.status = RuntimeResult::Status::not_handled;
  }
  if (const std::string id = answered_case(*previous); !id.empty()) r.instance = store_.load(id);
  return r;
}

RuntimeResult Runtime::send(const EventRequest& request) {
  const std::string digest = request_digest(request);
  if (auto previous = replayed(request.idempotency_key, digest)) return std::move(*previous);
  std::string id = request.instance_id;
  if (id.empty()) {
    auto found = store_.find_open_by_key(request.workflow, request.key);
    if (!found) {
      return failure(RuntimeResult::Status::not_found,
                     "no open '" + request.workflow + "' case with key " + request.key);
    }
    id = *found;
  }
  auto instance = store_.load(id);
  if (!instance) return failure(RuntimeResult::Status::not_found, "no case '" + id + "'");
  if (auto stale = stale_revision(*instance, request.revision)) return std::move(*stale);
  const Definition* def = definition(instance->workflow, instance->version);
  if (def == nullptr) {
    return failure(RuntimeResult::Status::not_found,
                   "workflow '" + instance->workflow + "' version " +
                       std::to_string(instance->version) + std::string(kNotLoaded));
  }
  // Refused: nothing committed; the answer shows the case as it is.
  const auto refuse = [&](std::string why) {
    RuntimeResult r = failure(RuntimeResult::Status::rejected, std::move(why));
    r.instance = std::move(instance);
    return r;
  };
  if (auto names = event_names_.find(def); names != event_names_.end()) {
    // A misspelt event is named as such, not recorded as one the case did not handle.
    if (names->second.handled.count(request.event) == 0 &&
        def->event_schema(request.event) == nullptr) {
      std::vector<std::string> known(names->second.handled.begin(), names->second.handled.end());
      for (const std::string& internal : names->second.internal) std::erase(known, internal);
      return refuse("workflow '" + def->name + "' has no event '" + request.event + "'" +
                    did_you_mean(request.event, known));
    }
    // Like `roles`, this binds callers other than admins.
    if (request.enforce_roles && names->second.internal.count(request.event) > 0) {
      return refuse("event '" + request.event + "' is raised by workflow '" + def->name +
                    "' itself and cannot be sent");
    }
  }
  StepContext ctx = context_for(nullptr);
  const StoreWorkload workload(store_);
  ctx.workload = &workload;
  ctx.actor_roles = request.actor_roles;
  ctx.enforce_roles = request.enforce_roles;
  Event event{request.event, request.data, std::nullopt, request.actor};
  Outcome out = step(*def, *instance, event, clock_.now(), ctx);
  if (out.result == Outcome::Result::not_handled && request.refuse_unhandled) {
    std::string why = request.event + ": not handled in '" + instance->state.str() + "'";
    for (const HistoryEntry& h : out.history) {
      if (h.kind == "not_handled") {
        why = h.message;
        break;
      }
    }
    return refuse(std::move(why));
  }
  if (out.result == Outcome::Result::rejected) return refuse(out.error);
  return apply(*instance, std::move(out), request.idempotency_key, digest, false, std::nullopt,
               request.actor, {{"event", request.event}, {"data", request.data}});
}

std::optional<RuntimeResult> Runtime::load_case(const std::string& instance_id,
                                                const std::string& idempotency_key,
                                                const std::string& digest,
                                                std::optional<std::uint64_t> revision,
                                                std::optional<Instance>& loaded) const {
  if (auto previous = replayed(idempotency_key, digest)) return previous;
  loaded = store_.load(instance_id);
  if (!loaded) return failure(RuntimeResult::Status::not_found, "no case '" + instance_id + "'");
  return stale_revision(*loaded, revision);
}

RuntimeResult Runtime::assign(const AssignRequest& request) {
  const std::string digest = request_digest(request);
  std::optional<Instance> instance;
  if (auto answer = load_case(request.instance_id, request.idempotency_key, digest,
                              request.revision, instance)) {
    return std::move(*answer);
  }
  if (instance->ended) {
    RuntimeResult r =
        failure(RuntimeResult::Status::rejected, "case '" + instance->id + "' has ended");
    r.instance = std::move(instance);
    return r;
  }
  if (!request.to.empty() && context_.directory != nullptr &&
      context_.directory->person(request.to) == nullptr) {
    return failure(RuntimeResult::Status::rejected, "no person '" + request.to + "'");
  }
  if (!request.to.empty() && !request.queue.empty()) {
    return failure(RuntimeResult::Status::rejected, "name a person ('to') or a queue, not both");
  }
  const std::string queue = request.queue.empty() ? std::string(instance->queue) : request.queue;
  if (request.to.empty() && queue.empty()) {
    // Taken from its assignee, it would wait in no queue: nobody would see it.
    return failure(
        RuntimeResult::Status::rejected,
        "case '" + instance->id + "' waits in no queue: name a person ('to') or a queue");
  }
  if (request.to.empty() ? instance->assignee.empty() && instance->queue == queue
                         : instance->assignee == request.to) {
    // Already where it is asked to go: nothing to record, nobody to tell.
    return unchanged(std::move(*instance));
  }
  const Definition* def = definition(instance->workflow, instance->version);
  if (def == nullptr) {
    return failure(RuntimeResult::Status::not_found,
                   "workflow '" + instance->workflow + "' version " +
                       std::to_string(instance->version) + std::string(kNotLoaded));
  }
  if (!request.to.empty() && request.to == request.actor) {
    const Person* actor =
        context_.directory != nullptr ? context_.directory->person(request.actor) : nullptr;
    if (const std::string event = decided_by_assignee(*def, *instance, actor); !event.empty()) {
      // Taking the case would make the actor its decider: a supervisor approving a leave, or a
      // contract, that waits for someone else. Another person may be given it, on the record.
      return failure(RuntimeResult::Status::rejected,
                     "'" + event + "' in state '" + std::string(instance->state) +
                         "' is the assignee's to decide: " + request.actor +
                         " cannot assign the case to themselves; assign it to another person");
    }
  }
  StepContext ctx = context_for(nullptr);
  const StoreWorkload workload(store_);
  ctx.workload = &workload;
  const Reassignment move{request.to, request.to.empty() ? queue : std::string(), request.reason,
                          request.actor};
  Outcome out = reassign(*def, *instance, move, clock_.now(), ctx);
  return apply(*instance, std::move(out), request.idempotency_key, digest, false, std::nullopt,
               request.actor,
               {{"assign", request.to}, {"queue", move.queue}, {"reason", request.reason}});
}

RuntimeResult Runtime::resolve_incident(const ResolveIncidentRequest& request) {
  const std::string digest = request_digest(request);
  std::optional<Instance> instance;
  if (auto answer = load_case(request.instance_id, request.idempotency_key, digest,
                              request.revision, instance)) {
    return std::move(*answer);
  }
  const std::size_t n = request.incident;
  if (n == 0 || n > instance->incidents.size()) {
    return failure(RuntimeResult::Status::not_found,
                   "case '" + instance->id + "' has no incident " + std::to_string(n) +
                       " (it has " + std::to_string(instance->incidents.size()) + ")");
  }
  if (instance->incidents[n - 1].resolved) {
    // Someone resolved it already: nothing to record.
    return unchanged(std::move(*instance));
  }
  Outcome out = ombud::resolve_incident(*instance, n, request.note, request.actor, clock_.now());
  return apply(*instance, std::move(out), request.idempotency_key, digest, false, std::nullopt,
               request.actor,
               {{"resolve_incident", static_cast<std::int64_t>(n)}, {"note", request.note}});
}

RuntimeResult Runtime::apply(const Instance& before, Outcome outcome,
                             const std::string& idempotency_key, const std::string& request,
                             bool is_new, const std::optional<DueTimer>& fired,
                             const std::string& actor, boost::json::object input) {
  Commit c;
  // The timer row that caused this step goes in the same transaction: it fires exactly once.
  c.fired = fired;
  c.actor = actor;
  c.input = std::move(input);
  c.expected_revision = is_new ? 0 : before.revision;
  c.history = outcome.history;
  // The store keeps a row for each instance's earliest pending timer only (decision 0013): that
  // row fires, and the commit of the step it causes arms the next earliest. The later timers of
  // an escalation ladder wait in the instance instead of each costing a row and an index entry.
  // Rows of timers that are no longer pending are deleted, whether or not they were written.
  const PendingTimer* was = earliest_timer(before.timers);  // has a row, unless is_new
  const PendingTimer* next = earliest_timer(outcome.instance.timers);
  const bool was_fired = was != nullptr && fired && fired->timer_id == was->id;
  if (next != nullptr && (is_new || was == nullptr || was->id != next->id || was_fired)) {
    c.armed.push_back({outcome.instance.id, next->id, next->due});
  }
  for (const auto& t : before.timers) {
    const bool still_pending =
        std::any_of(outcome.instance.timers.begin(), outcome.instance.timers.end(),
                    [&](const PendingTimer& p) { return p.id == t.id; });
    if (!still_pending && !(fired && fired->timer_id == t.id)) {
      c.cancelled.push_back({before.id, t.id, t.due});
    }
  }
  c.notifications = outcome.notifications;
  if (context_.templates != nullptr && !c.notifications.empty()) {
    // The texts as the case is now, kept with the message: it may be sent much later.
    const Definition* def = definition(outcome.instance.workflow, outcome.instance.version);
    const Timestamp now = clock_.now();
    for (Notification& n : c.notifications) {
      render_notification(*context_.templates, n, outcome.instance,
                          def != nullptr ? &def->data : nullptr, now);
    }
  }
  c.webhooks = outcome.webhooks;
  for (const auto& u : outcome.counters) c.counters.push_back({u.name, u.read, u.value});
  c.idempotency_key = idempotency_key;
  if (is_new && !outcome.instance.key.empty()) {
    const Definition* def = definition(outcome.instance.workflow, outcome.instance.version);
    if (def != nullptr) c.key_policy = def->key_policy;
  }
  c.instance = outcome.instance;

  RuntimeResult result;
  result.status = outcome.result == Outcome::Result::not_handled
                      ? RuntimeResult::Status::not_handled
                      : RuntimeResult::Status::ok;
  result.instance = std::move(outcome.instance);
  result.history = std::move(outcome.history);
  const Instance& after = *result.instance;
  // With an idempotency key, what a repeat is answered with (Runtime::replayed): the outcome
  // and which case. Not the whole answer: a repeat gets the case as it is then, and the step's
  // history is in the case's; kept whole, this was half of a webhook start's bytes.
  if (!idempotency_key.empty()) {
    c.response = {{"status", status_name(result.status)},
                  {"instance", boost::json::object{{"id", after.id}}}};
    if (!request.empty()) c.response["request"] = request;
  }
  if (store_.commit_owned(std::move(c)) == CommitResult::conflict) {
    return failure(RuntimeResult::Status::conflict,
                   "case '" + after.id + "' changed meanwhile (revision " +
                       std::to_string(before.revision) + " is stale)");
  }
  // Only now, after the commit, does anything leave the process.
  if (notifier_ != nullptr) {
    for (const auto& n : outcome.notifications) notifier_->notify(after, n);
    for (const auto& w : outcome.webhooks) notifier_->webhook(after, w);
  }
  for (const auto& child : outcome.starts) {
    StartRequest r;
    r.workflow = child.workflow;
    r.data = child.data;
    r.actor = after.id;
    // The parent's step is committed: whatever happens to the child, the caller hears that
    // (an error here would make a caller without an idempotency key send the event again).
    std::string problem;
    try {
      const RuntimeResult started = start(r);
      if (started.status != RuntimeResult::Status::ok) problem = started.error;
    } catch (const std::exception& e) {
      problem = e.what();
    }
    if (!problem.empty()) {
      try {
        record_incident(after.id, "could not start a '" + child.workflow + "' case: " + problem);
      } catch (const std::exception&) {
        // The store is away: the parent's history still says the start was asked for.
      }
    }
  }
  return result;
}

void Runtime::record_incident(const std::string& instance_id, const std::string& message) {
  // A follow-up commit of its own: the step that caused it is already durable.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto instance = store_.load(instance_id);
    if (!instance) return;
    const Timestamp now = clock_.now();
    Commit c;
    c.expected_revision = instance->revision;
    c.instance = *instance;
    c.instance.incidents.push_back({now, message, false});
    c.instance.revision += 1;
    c.history.push_back({now, "incident", message, {}});
    c.input = {{"incident", message}};
    if (store_.commit(c) == CommitResult::ok) return;
  }
}

std::optional<RuntimeResult> Runtime::fire_next_timer(Timestamp until) {
  const auto due = store_.due_timers(until, 1);
  if (due.empty()) return std::nullopt;
  return fire_timer(due.front());
}

std::optional<RuntimeResult> Runtime::fire_timer(const DueTimer& t) {
  auto instance = store_.load(t.instance_id);
  if (!instance) return std::nullopt;
  // Cancelled meanwhile: its row went with the commit that cancelled it. (A node may still hold
  // it in memory from an earlier claim.)
  if (std::none_of(instance->timers.begin(), instance->timers.end(),
                   [&](const PendingTimer& p) { return p.id == t.timer_id; })) {
    return std::nullopt;
  }
  const Definition* def = definition(instance->workflow, instance->version);
  if (def == nullptr) {
    // A timer of a case whose workflow version this node has not loaded yet (published through
    // another node moments ago, say): move its row a little later, for whichever node has the
    // version by then. Dropping it would leave the case without a timer row (decision 0013).
    Commit c;
    c.fired = t;
    c.armed.push_back({instance->id, t.timer_id, clock_.now() + kUnknownVersionRetry});
    c.instance = *instance;
    c.expected_revision = instance->revision;
    c.instance.revision += 1;
    c.actor = "timer";
    (void)store_.commit(c);
    return failure(RuntimeResult::Status::not_found,
                   "timer of case '" + instance->id + "' whose workflow is not loaded");
  }
  StepContext ctx = context_for(nullptr);
  const StoreWorkload workload(store_);
  ctx.workload = &workload;
  Event event;
  event.timer_id = t.timer_id;
  Outcome out = step(*def, *instance, event, clock_.now(), ctx);
  return apply(*instance, std::move(out), "", "", false, t, "timer", {{"timer", t.timer_id}});
}

int Runtime::fire_due_timers() {
  int fired = 0;
  while (fire_next_timer(clock_.now())) ++fired;
  return fired;
}

std::vector<ScheduledStart> scheduled_starts(const Definition& def, Timestamp from, Timestamp to) {
  std::vector<ScheduledStart> out;
  if (!def.schedule) return out;
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(def.schedule->timezone);
  } catch (const std::exception&) {
    return out;  // rejected when the definition was checked
  }
  auto local = zone->to_local(std::chrono::floor<std::chrono::seconds>(from));
  const auto local_end = zone->to_local(std::chrono::floor<std::chrono::seconds>(to));
  for (int guard = 0; guard < 100000; ++guard) {
    auto next = def.schedule->cron.next_after(local);
    if (!next || *next > local_end) break;
    local = *next;
    ScheduledStart s;
    s.due = std::chrono::time_point_cast<Millis>(zone->to_sys(local, date::choose::earliest));
    s.request.workflow = def.name;
    s.request.actor = "schedule";
    s.request.idempotency_key = "schedule:" + def.name + ":" + format_timestamp(s.due);
    for (const auto& [field, spec] : def.schedule->data) {
      auto v = schedule_value(spec, s.due, s.problem);
      if (!v) break;
      s.request.data[field] = std::move(*v);
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<RuntimeResult> Runtime::run_schedules(Timestamp from, Timestamp to) {
  std::vector<RuntimeResult> results;
  for (const auto& [name, entry] : definitions_) {
    for (const ScheduledStart& s : scheduled_starts(*entry.first, from, to)) {
      if (!s.problem.empty()) {
        results.push_back(
            failure(RuntimeResult::Status::rejected, "schedule of '" + name + "': " + s.problem));
        continue;
      }
      results.push_back(start_at(s.request, s.due));
    }
  }
  return results;
}

}  // namespace ombud
