#include <stdexcept>
#include <string>

#include <tsunagu/event.hpp>

namespace tsunagu {

std::string_view to_string(Sensitivity s) noexcept {
  return s == Sensitivity::special_care ? "special_care" : "normal";
}

Sensitivity sensitivity_from_string(std::string_view s) {
  if (s == "normal") return Sensitivity::normal;
  if (s == "special_care") return Sensitivity::special_care;
  throw std::invalid_argument("sensitivity must be 'normal' or 'special_care', not '" +
                              std::string(s) + "'");
}

}  // namespace tsunagu
