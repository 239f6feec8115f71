#pragma once
// The error a plant file's text gives, or "no error": what the plant file tests compare.
#include <string>

#include "oee/plant/plant_file.h"

namespace oee::plant {

inline std::string error_of(const std::string& yaml) {
  try {
    load_plant_yaml(yaml, "plant.yaml");
  } catch (const PlantFileError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace oee::plant
