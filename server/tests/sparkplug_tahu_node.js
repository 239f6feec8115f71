// An independent Sparkplug B edge node for the host tests: Eclipse Tahu's JavaScript client
// (sparkplug-client 3.2.4), driven by the test over MQTT so each step happens when the test says.
// argv: node_modules dir, broker URL, group, edge node id.
// Commands on test/ctl/<node> (JSON): {op:"birth", node_metrics, devices:{id:[metrics]}},
// {op:"ddata", device, timestamp, metrics}, {op:"skip_seq"}. Reports on test/evt/<node>:
// {ready:true} once subscribed, {rebirth:n} after answering the n-th Rebirth request.
const path = require('path');
const [modules, broker, group, node] = process.argv.slice(2);
const sparkplug = require(path.join(modules, 'sparkplug-client'));
const mqtt = require(path.join(modules, 'mqtt'));

const client = sparkplug.newClient({
  serverUrl: broker, groupId: group, edgeNode: node, clientId: 'tahu-' + node,
  username: '', password: '', version: 'spBv1.0',
});
const copy = (x) => JSON.parse(JSON.stringify(x));
let births = null;  // the last births, kept current by the data sent since, for a Rebirth
let rebirths = 0;

function publishBirths() {
  client.publishNodeBirth({timestamp: Date.now(), metrics: copy(births.node_metrics || [])});
  for (const [device, metrics] of Object.entries(births.devices || {})) {
    client.publishDeviceBirth(device, {timestamp: Date.now(), metrics: copy(metrics)});
  }
}

function remember(device, metrics) {
  const born = births && births.devices && births.devices[device];
  if (!born) return;
  for (const m of metrics) {
    const b = born.find((x) => (m.name !== undefined && x.name === m.name) || (m.alias !== undefined && x.alias === m.alias));
    if (b) {
      b.value = m.value;
      delete b.timestamp;  // a Rebirth's values are current: the birth's time
    }
  }
}

function command(c) {
  if (c.op === 'birth') {
    births = copy(c);
    publishBirths();
  } else if (c.op === 'ddata') {
    remember(c.device, c.metrics);
    client.publishDeviceData(c.device, {timestamp: c.timestamp || Date.now(), metrics: c.metrics});
  } else if (c.op === 'skip_seq') {
    client.seq = (client.seq + 1) % 256;  // one message "lost": the host sees a gap
  }
}

// Its own connection for the test's commands: Tahu's client decodes all it receives as Sparkplug.
const control = mqtt.connect(broker, {clientId: 'ctl-' + node, clean: true});
control.on('message', (topic, payload) => command(JSON.parse(payload.toString())));
function report(what) { control.publish('test/evt/' + node, JSON.stringify(what), {qos: 1}); }
let sparkplugUp = false, controlUp = false;
function ready() { if (sparkplugUp && controlUp) report({ready: true}); }
client.on('birth', () => { sparkplugUp = true; ready(); });
control.on('connect', () => control.subscribe('test/ctl/' + node, {qos: 1}, () => { controlUp = true; ready(); }));
client.on('ncmd', (payload) => {
  const rebirth = (payload.metrics || []).find((m) => m.name === 'Node Control/Rebirth' && m.value);
  if (!rebirth || !births) return;
  publishBirths();
  report({rebirth: ++rebirths});
});
