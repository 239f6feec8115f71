// The server's clock in the browser: stop timers and the time left in the shift count on it, not on
// the browser's own. The server tells its `now` and `clock_rate` (GET /api/v1/plant, the live feed's
// hello); between readings its clock runs on at that rate from the last reading. A tablet whose
// clock is wrong, or the demo's clock running `--speed` times as fast, so still shows true timers.
'use strict';

const serverClock = { now: null, readAt: 0, rate: 1 };

// A reading of the server's clock (RFC 3339 text) and its rate, taken as it arrives.
function syncServerClock(nowText, rate) {
  const now = Date.parse(nowText);
  if (!Number.isFinite(now)) return;
  serverClock.now = now;
  serverClock.readAt = Date.now();
  serverClock.rate = Number.isFinite(rate) && rate > 0 ? rate : 1;
}

// Now on the server's clock, in epoch ms (the browser's until the first reading).
const serverNow = () => (serverClock.now === null ? Date.now() : serverClock.now + (Date.now() - serverClock.readAt) * serverClock.rate);
