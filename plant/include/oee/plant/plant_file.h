#pragma once
// Loads and validates a plant file (YAML). Errors name the file, the line and what is wrong.
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "oee/core/plant_model.h"
#include "oee/core/time_zone.h"
#include "oee/plant/alert_notifications.h"

namespace oee::plant {

class PlantFileError : public std::runtime_error {
 public:
  PlantFileError(std::string file, int line, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 1-based; 0 when not tied to a line
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  std::string message_;
};

struct LoadedPlant {
  PlantModel model;
  std::shared_ptr<const TimeZone> zone;
  AlertNotifications alert_notifications;  // secrets: never logged
};

// Throws PlantFileError ("plant.yaml:12: machines[0].ideal_cycle_time_s: must be > 0").
LoadedPlant load_plant_file(const std::string& path);
LoadedPlant load_plant_yaml(std::string_view text, const std::string& file_name_for_errors);

// A zone of the system tz database (IANA name, e.g. "Europe/Berlin"); throws std::invalid_argument.
std::shared_ptr<const TimeZone> make_time_zone(const std::string& iana_name);

}  // namespace oee::plant
