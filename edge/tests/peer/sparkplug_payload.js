// Eclipse Tahu's Sparkplug B payload codec (npm sparkplug-payload) as the independent peer of the
// edge's Sparkplug tests. `decode FILE...` prints each payload as one JSON line (64-bit integers as
// numbers); `rebirth FILE` writes an NCMD payload asking for a Rebirth.
const fs = require('fs');
const Long = require('long');
const sparkplug = require('sparkplug-payload').get('spBv1.0');

const [command, ...files] = process.argv.slice(2);
const plain = (key, value) => (Long.isLong(value) ? Number(value.toString()) : value);
if (command === 'decode') {
  for (const f of files) process.stdout.write(JSON.stringify(sparkplug.decodePayload(fs.readFileSync(f)), plain) + '\n');
} else if (command === 'rebirth' && files.length === 1) {
  fs.writeFileSync(files[0], sparkplug.encodePayload({
    timestamp: Date.now(), metrics: [{name: 'Node Control/Rebirth', type: 'Boolean', value: true}]}));
} else {
  process.stderr.write('usage: sparkplug_payload.js decode FILE... | rebirth FILE\n');
  process.exit(2);
}
