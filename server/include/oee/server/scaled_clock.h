#pragma once
// The demo's clock (`oee serve --demo --speed X`): it reads the wall clock's time when made and then
// runs X times as fast, so the server's now is the simulated plant's now; the events, the KPIs "so
// far", the current shift and the dashboard's timers (GET /api/v1/plant's `clock_rate`) agree.
#include "oee/server/plant_service.h"

namespace oee::server {

Clock scaled_clock(double rate, Clock wall = system_clock_ms);

}  // namespace oee::server
