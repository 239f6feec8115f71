// The server's clock in the browser: stop timers and the time left in the shift count on it, not on
// the browser's own. The server tells its `now` and `clock_rate` (GET /api/v1/plant, the live feed's
// hello); between readings its clock runs on at that rate from the last reading. A tablet whose
// clock is wrong, or the demo's clock running `--speed` times as fast, so still shows true timers.
'use strict';

// `uncertainty`: how far off the reading may be, in wall ms (half its round trip).
const serverClock = { now: null, readAt: 0, rate: 1, uncertainty: Infinity };

// A reading of the server's clock (RFC 3339 text) and its rate. With `askedAt` (when the request
// left) it is taken as read halfway through the round trip: at the demo's rate a reading taken on
// arrival would lag by rate x the reply's delay, seconds on a loaded machine. The reading with the
// shorter round trip is the better one, so a new reading replaces the last only when it is as
// precise, or when the two disagree by more than both may be off (the server's clock was set anew).
function syncServerClock(nowText, rate, askedAt) {
  const now = Date.parse(nowText);
  if (!Number.isFinite(now)) return;
  const arrived = Date.now();
  const timed = Number.isFinite(askedAt) && askedAt <= arrived;
  const reading = { now, readAt: timed ? (askedAt + arrived) / 2 : arrived, rate: Number.isFinite(rate) && rate > 0 ? rate : 1,
    uncertainty: timed ? (arrived - askedAt) / 2 : Infinity };
  const disagree = serverClock.now !== null &&
    Math.abs(serverNow(reading.readAt) - now) > reading.rate * (reading.uncertainty + serverClock.uncertainty) + 1;
  // The first reading always replaces the initial one, whose uncertainty is Infinity.
  if (reading.uncertainty <= serverClock.uncertainty || disagree || reading.rate !== serverClock.rate) {
    Object.assign(serverClock, reading);
  }
}

// Now on the server's clock, in epoch ms (the browser's until the first reading).
// `wall`: at another instant of the browser's clock.
const serverNow = (wall = Date.now()) => (serverClock.now === null ? wall : serverClock.now + (wall - serverClock.readAt) * serverClock.rate);
