// The server's clock in the browser: stop timers and the time left in the shift count on it, not on
// the browser's own. The server tells its `now` and `clock_rate` (GET /api/v1/plant, the live feed's
// hello); between readings its clock runs on at that rate from the last reading. A tablet whose
// clock is wrong, or the demo's clock running `--speed` times as fast, so still shows true timers.
'use strict';

const serverClock = { now: null, readAt: 0, rate: 1 };

// A reading of the server's clock (RFC 3339 text) and its rate. With `askedAt` (when the request
// left) it is taken as read halfway through the round trip: at the demo's rate a reading taken on
// arrival would lag by rate x the reply's delay, seconds on a loaded machine.
function syncServerClock(nowText, rate, askedAt) {
  const now = Date.parse(nowText);
  if (!Number.isFinite(now)) return;
  const arrived = Date.now();
  serverClock.now = now;
  serverClock.readAt = Number.isFinite(askedAt) && askedAt <= arrived ? (askedAt + arrived) / 2 : arrived;
  serverClock.rate = Number.isFinite(rate) && rate > 0 ? rate : 1;
}

// Now on the server's clock, in epoch ms (the browser's until the first reading).
const serverNow = () => (serverClock.now === null ? Date.now() : serverClock.now + (Date.now() - serverClock.readAt) * serverClock.rate);
