// Every user-visible string of the dashboard, in one place for translation (English first).
'use strict';
window.OEE_STRINGS = {
  overview: 'Overview', report: 'Shift report', andon: 'Scoreboard', logout: 'Log out',
  shiftLeft: (name, left) => `${name}: ${left} left`, noShift: 'no shift now',
  good: 'good', perHour: '/h', stopFor: 'for',
  reasonPick: 'Reason…', reasonBack: 'Back', reasonCancel: 'Cancel', reasonPlaceholder: 'reason', assign: 'Assign',
  reasonEmpty: 'choose a reason first', reasonTitle: (at) => `Reason for the stop at ${at}`,
  zoomIn: 'Zoom in', zoomOut: 'Zoom out', zoomReset: 'Whole window', noData: 'no data', noPlan: 'no planned time',
  target: 'target', print: 'Print',
  ahead: 'ahead', behind: 'behind', targetByNow: 'target by now',
  displayToken: 'Display token (scoreboard kiosk)', useDisplayToken: 'Use on this screen',
  displayTokenBad: 'this token is not accepted',
};
