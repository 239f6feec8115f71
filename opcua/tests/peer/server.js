// node-opcua test peer for the oee_opcua integration tests and benchmark.
// Usage: node server.js --port P [--counters N] [--rate-ms MS] [--pki DIR] [--small-buffers]
//                       [--packml-start-ms MS]
//        [--security-policies Basic256Sha256,... --security-modes Sign,SignAndEncrypt] [--disable-discovery]
//        [--certificate PEM --private-key PEM] [--accept-user-certificates] [--no-anonymous]
// Prints "READY port=P" on stdout once it accepts connections; exits on SIGTERM/SIGINT.
"use strict";
const path = require("path");
const os = require("os");
const fs = require("fs");
const {
  OPCUAServer, SecurityPolicy, MessageSecurityMode, Variant, DataType, VariantArrayType, StatusCodes, OPCUACertificateManager,
  LocalizedText, QualifiedName, NodeId, coerceNodeId,
} = require("node-opcua");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  return fallback;
}
const port = parseInt(arg("--port", process.env.OPCUA_PORT || "4840"), 10);
const counterCount = parseInt(arg("--counters", process.env.OPCUA_COUNTERS || "10"), 10);
const rateMs = parseInt(arg("--rate-ms", process.env.OPCUA_RATE_MS || "1000"), 10);
const pkiDir = arg("--pki", process.env.OPCUA_PKI || path.join(os.tmpdir(), "oee-opcua-peer-pki"));
const smallBuffers = process.argv.includes("--small-buffers") || process.env.OPCUA_SMALL_BUFFERS === "1";
const securityPolicies = arg("--security-policies", "");
const securityModes = arg("--security-modes", "");
const disableDiscovery = process.argv.includes("--disable-discovery");
const certificateFile = arg("--certificate", "");
const privateKeyFile = arg("--private-key", "");
const acceptUserCertificates = process.argv.includes("--accept-user-certificates");
const allowAnonymous = !process.argv.includes("--no-anonymous");

const users = { operator: "secret" };

async function main() {
  fs.mkdirSync(pkiDir, { recursive: true });
  const serverCertificateManager = new OPCUACertificateManager({
    automaticallyAcceptUnknownCertificate: true,
    rootFolder: path.join(pkiDir, "server"),
  });
  const options = {
    port,
    serverCertificateManager,
    allowAnonymous,
    userManager: { isValidUser: (user, password) => users[user] === password },
    serverCapabilities: {
      maxSessions: 50,
      maxSubscriptions: 100,
      maxMonitoredItems: 100000,
      maxSubscriptionsPerSession: 20,
      maxMonitoredItemsPerSubscription: 100000,
      minSupportedSampleRate: 0,
      operationLimits: {
        maxNodesPerRead: 1000,
        maxNodesPerWrite: 1000,
        maxNodesPerBrowse: 50,
        maxMonitoredItemsPerCall: 1000,
      },
    },
  };
  if (securityPolicies) {
    // Only secured endpoints (plus node-opcua's restricted None endpoint for GetEndpoints unless
    // discovery is disabled). Unknown client certificates are accepted (see above).
    options.securityPolicies = securityPolicies.split(",").map((name) => SecurityPolicy[name]);
    options.securityModes = securityModes.split(",").map((name) => MessageSecurityMode[name]);
    options.disableDiscovery = disableDiscovery;
  }
  if (certificateFile) {
    // A certificate the test made (e.g. an expired one) instead of node-opcua's own.
    options.certificateFile = certificateFile;
    options.privateKeyFile = privateKeyFile;
  }
  if (acceptUserCertificates) {
    // X.509 user tokens: the token's signature is still checked, any user certificate is trusted.
    options.userCertificateManager = new OPCUACertificateManager({
      automaticallyAcceptUnknownCertificate: true,
      rootFolder: path.join(pkiDir, "user"),
    });
  }
  if (smallBuffers) {
    // The smallest buffers the spec allows, so any message above ~8 KB is chunked both ways.
    options.transportSettings = {
      adjustTransportLimits: (hello) => ({
        receiveBufferSize: 8192,
        sendBufferSize: 8192,
        maxMessageSize: hello.maxMessageSize || 16 * 1024 * 1024,
        maxChunkCount: 0,
      }),
    };
  }
  const server = new OPCUAServer(options);
  await server.initialize();
  const addressSpace = server.engine.addressSpace;
  const namespace = addressSpace.getOwnNamespace();
  const root = namespace.addFolder(addressSpace.rootFolder.objects, { browseName: "OeeTest", nodeId: "s=OeeTest" });
  const scalars = namespace.addFolder(root, { browseName: "Scalars", nodeId: "s=Scalars" });
  const arrays = namespace.addFolder(root, { browseName: "Arrays", nodeId: "s=Arrays" });
  const counters = namespace.addFolder(root, { browseName: "Counters", nodeId: "s=Counters" });

  const guid = "72962B91-FA75-4AE6-8D28-B404DC7DAF63";
  const samples = {
    Boolean: true,
    SByte: -100,
    Byte: 200,
    Int16: -30000,
    UInt16: 60000,
    Int32: -2000000000,
    UInt32: 4000000000,
    Int64: [0xFFFFFFFE, 5], // node-opcua's 64-bit form [high, low]: 0xFFFFFFFE00000005 = -8589934587
    UInt64: [1, 2], // 4294967298
    Float: 1.5,
    Double: 3.25,
    String: "Linie 1 – Zustand",
    DateTime: new Date(Date.UTC(2024, 2, 31, 1, 30, 0, 123)),
    Guid: guid,
    ByteString: Buffer.from([0, 1, 2, 254, 255]),
    XmlElement: "<a>b</a>",
    NodeId: coerceNodeId("ns=1;s=Line1.State"),
    ExpandedNodeId: coerceNodeId("i=2258"),
    StatusCode: StatusCodes.BadNodeIdUnknown,
    QualifiedName: new QualifiedName({ namespaceIndex: 1, name: "Speed" }),
    LocalizedText: new LocalizedText({ locale: "de-DE", text: "Geschwindigkeit" }),
  };
  const arraySamples = {
    Boolean: [true, false, true],
    SByte: [-1, 0, 1],
    Byte: [1, 2, 3],
    Int16: [-1, 2, -3],
    UInt16: [1, 2, 65535],
    Int32: [-7, 8, 2147483647],
    UInt32: [0, 1, 4294967295],
    Int64: [[0, 5], [0xFFFFFFFF, 0xFFFFFFFF]],
    UInt64: [[0, 5], [0, 6]],
    Float: [0.5, -0.25],
    Double: [1.125, -2.5, 1e300],
    String: ["a", "", "ü"],
    DateTime: [new Date(Date.UTC(2020, 0, 1)), new Date(Date.UTC(2021, 5, 15, 12))],
    Guid: [guid, "00000000-0000-0000-0000-000000000001"],
    ByteString: [Buffer.from([1]), Buffer.from([2, 3])],
    NodeId: [coerceNodeId("i=85"), coerceNodeId("ns=2;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63"), coerceNodeId("ns=3;b=AQID")],
    StatusCode: [StatusCodes.Good, StatusCodes.BadTimeout],
    QualifiedName: [new QualifiedName({ namespaceIndex: 0, name: "A" })],
    LocalizedText: [new LocalizedText({ locale: "en", text: "Hello" }), new LocalizedText({ text: "NoLocale" })],
  };
  for (const [typeName, value] of Object.entries(samples)) {
    const v = namespace.addVariable({
      componentOf: scalars, browseName: typeName, nodeId: `s=Scalar.${typeName}`, dataType: typeName,
      accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
      minimumSamplingInterval: 0,
    });
    v.setValueFromSource(new Variant({ dataType: DataType[typeName], arrayType: VariantArrayType.Scalar, value }));
  }
  for (const [typeName, value] of Object.entries(arraySamples)) {
    const v = namespace.addVariable({
      componentOf: arrays, browseName: typeName, nodeId: `s=Array.${typeName}`, dataType: typeName, valueRank: 1,
      accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
      minimumSamplingInterval: 0,
    });
    v.setValueFromSource(new Variant({ dataType: DataType[typeName], arrayType: VariantArrayType.Array, value }));
  }
  // A 2x3 matrix: arrays with dimensions.
  const matrix = namespace.addVariable({
    componentOf: arrays, browseName: "Matrix", nodeId: "s=Array.Matrix", dataType: "Int32", valueRank: 2,
    arrayDimensions: [2, 3], accessLevel: "CurrentRead | CurrentWrite", minimumSamplingInterval: 0,
  });
  matrix.setValueFromSource(new Variant({
    dataType: DataType.Int32, arrayType: VariantArrayType.Matrix, dimensions: [2, 3],
    value: new Int32Array([1, 2, 3, 4, 5, 6]),
  }));
  // Large values: a response far above one 8 KB chunk.
  const big = namespace.addVariable({
    componentOf: root, browseName: "BigDoubles", nodeId: "s=Big.Doubles", dataType: "Double", valueRank: 1,
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite", minimumSamplingInterval: 0,
  });
  big.setValueFromSource(new Variant({
    dataType: DataType.Double, arrayType: VariantArrayType.Array,
    value: new Float64Array(20000).map((_, i) => i * 0.5),
  }));
  const bigBytes = namespace.addVariable({
    componentOf: root, browseName: "BigBytes", nodeId: "s=Big.Bytes", dataType: "ByteString",
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite", minimumSamplingInterval: 0,
  });
  bigBytes.setValueFromSource(new Variant({ dataType: DataType.ByteString, value: Buffer.alloc(10) }));
  // A value that grows past any message size: writing N to Big.GrowTo makes Big.Growing an array
  // of N doubles (a client's oversized notification, issue 15).
  const growing = namespace.addVariable({
    componentOf: root, browseName: "Growing", nodeId: "s=Big.Growing", dataType: "Double", valueRank: 1,
    minimumSamplingInterval: 0,
  });
  growing.setValueFromSource(new Variant({ dataType: DataType.Double, arrayType: VariantArrayType.Array,
    value: new Float64Array(4) }));
  const growTo = namespace.addVariable({
    componentOf: root, browseName: "GrowTo", nodeId: "s=Big.GrowTo", dataType: "UInt32",
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
  });
  growTo.bindVariable({
    get: () => new Variant({ dataType: DataType.UInt32, value: growing.readValue().value.value.length }),
    set: (v) => {
      growing.setValueFromSource(new Variant({ dataType: DataType.Double, arrayType: VariantArrayType.Array,
        value: new Float64Array(v.value).map((_, i) => i) }));
      return StatusCodes.Good;
    },
  }, true);

  // Counters: each increments by one per tick, so a client sees any gap or reordering.
  // Each start begins at a random value, so a restart shows as a break in every counter.
  const counterNodes = [];
  let tick = Math.floor(Math.random() * 1000000) * 100;
  for (let i = 0; i < counterCount; i++) {
    const v = namespace.addVariable({
      componentOf: counters, browseName: `C${i}`, nodeId: `s=Counter.${i}`, dataType: "UInt32",
      minimumSamplingInterval: 0,
    });
    v.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: tick }));
    counterNodes.push(v);
  }
  const tickNode = namespace.addVariable({
    componentOf: counters, browseName: "Tick", nodeId: "s=Counter.Tick", dataType: "UInt32", minimumSamplingInterval: 0,
  });
  tickNode.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: tick }));
  // An AnalogItem (with EURange 0..1000) for percent deadbands.
  const analog = namespace.addAnalogDataItem({
    componentOf: counters, browseName: "Analog", nodeId: "s=Analog.Counter", dataType: "Double",
    engineeringUnitsRange: { low: 0, high: 1000 }, minimumSamplingInterval: 0,
  });
  analog.setValueFromSource(new Variant({ dataType: DataType.Double, value: tick % 1000 }));
  setInterval(() => {
    tick++;
    analog.setValueFromSource(new Variant({ dataType: DataType.Double, value: tick % 1000 }));
    const now = new Date();
    for (const v of counterNodes) {
      v.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: tick }), StatusCodes.Good, now);
    }
    tickNode.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: tick }), StatusCodes.Good, now);
  }, rateMs);

  addPackmlUnit(namespace, root);

  await server.start();
  process.stdout.write(`READY port=${port} url=${server.getEndpointUrl()}\n`);
  const stop = async () => {
    try { await server.shutdown(0); } finally { process.exit(0); }
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

// A PackML unit (OeeTest/Line1/Packer) with the PackTags the edge's preset reads, under numeric
// node ids (the preset finds them by browse names). Writing true to ns=1;s=Packer.Script.Go plays
// a fixed production run, one step every 200 ms, each stamped at its simulated instant from
// --packml-start-ms (default: an hour ago, on the minute), so the KPIs are known in advance
// (edge/tests/edge_integration_test.cpp, ServerIngest.PackmlUnitMappedByThePresets…).
const kPackmlScript = [  // [seconds after the start, values]
  [0, { state: 6, speed: 60, cur: 60 }],                                        // Execute
  [600, { processed: 500, defective: 10, state: 11, reason: 42, cur: 0 }],     // Held, stop reason 42
  [720, { state: 6, reason: 0, cur: 55 }],                                      // Execute
  [1200, { processed: 900, defective: 25, state: 5, cur: 0 }],                  // Suspended
  [1260, { state: 6, cur: 55 }],                                                // Execute
  [1800, { processed: 1400, defective: 30, state: 17, cur: 0 }],                // Complete
];

function addPackmlUnit(namespace, root) {
  const startMs = parseInt(arg("--packml-start-ms", "0"), 10) || Math.floor(Date.now() / 60000) * 60000 - 3600000;
  const line = namespace.addObject({ componentOf: root, browseName: "Line1", nodeId: "s=Line1" });
  const packer = namespace.addObject({ componentOf: line, browseName: "Packer", nodeId: "s=Packer" });
  namespace.addObject({ componentOf: line, browseName: "Conveyor", nodeId: "s=Conveyor" });  // not PackML
  const status = namespace.addObject({ componentOf: packer, browseName: "Status", nodeId: "i=7001" });
  const admin = namespace.addObject({ componentOf: packer, browseName: "Admin", nodeId: "i=7002" });
  const processed = namespace.addObject({ componentOf: admin, browseName: "ProdProcessedCount", nodeId: "i=7003" });
  // A PLC that flattens the array of count structures: the preset matches "ProdDefectiveCount[0]".
  const defective = namespace.addObject({ componentOf: admin, browseName: "ProdDefectiveCount[0]", nodeId: "i=7004" });
  const reason = namespace.addObject({ componentOf: admin, browseName: "StopReason", nodeId: "i=7005" });
  const variable = (parent, name, id, dataType) => namespace.addVariable({
    componentOf: parent, browseName: name, nodeId: `i=${id}`, dataType, minimumSamplingInterval: 0,
  });
  const tags = {
    state: [variable(status, "StateCurrent", 7011, "Int32"), DataType.Int32],
    speed: [variable(status, "MachSpeed", 7012, "Float"), DataType.Float],
    cur: [variable(status, "CurMachSpeed", 7013, "Float"), DataType.Float],
    processed: [variable(processed, "AccCount", 7014, "Int32"), DataType.Int32],
    defective: [variable(defective, "AccCount", 7015, "Int32"), DataType.Int32],
    reason: [variable(reason, "ID", 7016, "Int32"), DataType.Int32],
  };
  variable(processed, "Count", 7017, "Int32").setValueFromSource(new Variant({ dataType: DataType.Int32, value: 0 }));
  const set = (values, atMs) => {
    for (const [key, value] of Object.entries(values)) {
      const [node, dataType] = tags[key];
      node.setValueFromSource(new Variant({ dataType, value }), StatusCodes.Good, new Date(atMs));
    }
  };
  set({ state: 4, speed: 0, cur: 0, processed: 0, defective: 0, reason: 0 }, startMs - 60000);  // Idle before
  const go = namespace.addVariable({
    componentOf: packer, browseName: "ScriptGo", nodeId: "s=Packer.Script.Go", dataType: "Boolean",
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
  });
  let started = false;
  go.bindVariable({
    get: () => new Variant({ dataType: DataType.Boolean, value: started }),
    set: (v) => {
      if (v.value && !started) {
        started = true;
        kPackmlScript.forEach(([s, values], i) => setTimeout(() => set(values, startMs + s * 1000), 200 * (i + 1)));
      }
      return StatusCodes.Good;
    },
  }, true);
}

main().catch((err) => {
  process.stderr.write(`server.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
