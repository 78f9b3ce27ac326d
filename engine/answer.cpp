#include <boost/json/serialize.hpp>
#include <mutex>

#include "engine/store.h"

namespace ombud {

struct Answer::Shared {
  explicit Shared(boost::json::object j) : json(std::move(j)) {}
  const boost::json::object json;
  std::once_flag serialised;
  std::string text;
};

Answer::Answer(boost::json::object json) : shared_(std::make_shared<Shared>(std::move(json))) {}

const boost::json::object& Answer::json() const {
  static const boost::json::object kEmpty;
  return shared_ ? shared_->json : kEmpty;
}

const std::string& Answer::text() const {
  static const std::string kEmpty = "{}";
  if (!shared_) return kEmpty;
  std::call_once(shared_->serialised,
                 [this] { shared_->text = boost::json::serialize(shared_->json); });
  return shared_->text;
}

}  // namespace ombud
