// Baseline for bench/opcua_subscribe.sh: node-opcua's own client subscribed to the same items with
// the same parameters as `oee opcua subscribe` (publishing 1 s, sampling 0, queue 10). Counts values
// without printing them; prints "subscribed" on stderr when ready and the count on SIGTERM.
// Usage: node opcua_node_client.js URL ITEMS [POLICY MODE PKI_DIR]   (default: None)
"use strict";
const path = require("path");
const {
  OPCUAClient, AttributeIds, TimestampsToReturn, ClientMonitoredItemGroup, MessageSecurityMode, SecurityPolicy,
  OPCUACertificateManager,
} = require("node-opcua");

function securityOptions(policy, mode, pkiDir) {
  if (!policy || policy === "None") return { securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None };
  if (!(policy in SecurityPolicy) || !(mode in MessageSecurityMode) || !pkiDir)
    throw new Error(`bad security arguments: policy ${policy} mode ${mode} pki ${pkiDir}`);
  // Its own PKI (certificate made on first use), trusting the bench's server like ours does.
  const clientCertificateManager = new OPCUACertificateManager({
    rootFolder: path.resolve(pkiDir), automaticallyAcceptUnknownCertificate: true,
  });
  return { securityMode: MessageSecurityMode[mode], securityPolicy: SecurityPolicy[policy], clientCertificateManager };
}

async function main() {
  const url = process.argv[2];
  const items = parseInt(process.argv[3] || "10000", 10);
  const client = OPCUAClient.create({
    endpointMustExist: false,
    ...securityOptions(process.argv[4], process.argv[5], process.argv[6]),
    connectionStrategy: { maxRetry: 3, initialDelay: 500, maxDelay: 2000 },
  });
  await client.connect(url);
  const session = await client.createSession();
  const subscription = await session.createSubscription2({
    requestedPublishingInterval: 1000, requestedLifetimeCount: 60, requestedMaxKeepAliveCount: 10,
    maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 0,
  });
  const toMonitor = [];
  for (let i = 0; i < items; i++) toMonitor.push({ nodeId: `ns=1;s=Counter.${i}`, attributeId: AttributeIds.Value });
  let values = 0;
  // In groups of 1000: the server's MaxMonitoredItemsPerCall, which node-opcua's client does not split by.
  for (let i = 0; i < toMonitor.length; i += 1000) {
    const group = await ClientMonitoredItemGroup.create(subscription, toMonitor.slice(i, i + 1000),
      { samplingInterval: 0, discardOldest: true, queueSize: 10 }, TimestampsToReturn.Both);
    group.on("changed", () => { values++; });
  }
  process.stderr.write(`{"event":"subscribed","items":${items}}\n`);
  const stop = async () => {
    process.stdout.write(JSON.stringify({ values, items }) + "\n");
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  process.stderr.write(`opcua_node_client.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
