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
  analysis: 'Analysis', presets: { shift: 'Shift', day: 'Day', week: 'Week', month: 'Month' },
  from: 'From', to: 'To', bucket: 'By', compare: 'Compare', apply: 'Show', node: 'Node', machine: 'Machine',
  duration: 'Duration', reason: 'Reason', reject: 'reject', downtime: 'Downtime', all: 'All reasons',
  kpi: { oee: 'OEE', availability: 'A', performance: 'P', quality: 'Q' },
  waterfall: 'Six big losses', trend: 'OEE trend', paretoDrill: 'Loss Pareto (tap a bar to drill down)',
  planned: 'planned time', fullyProductive: 'fully productive',
  losses: { breakdowns: 'breakdowns', setup: 'setup & adjust.', starved_blocked: 'starved & blocked', small_stops: 'small stops', speed_loss: 'reduced speed',
    production_rejects: 'rejects', startup_rejects: 'startup rejects' },
  exportCsv: 'CSV', exportPng: 'PNG',
};
