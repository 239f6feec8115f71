#!/usr/bin/python3
"""Writes the plant and the edges of bench/scale_proof.sh into DIR: plant.yaml (one site, one area
per edge, lines of 10 machines), per machine a tag table (the PLC's tag export: 100 tags in the
register layout of bench/scale_devices.py), per edge edge-N.yaml (one Modbus source per machine, its
unit id on that edge's gateway port), and machines.txt (every machine's path, the probe first).

usage: scale_plant.py DIR MACHINES EDGES BROKER_URL POLL_MS PORT...   (one gateway port per edge)
"""
import os
import sys

STATES = '{"1": running, "2": stopped, "3": setup, "4": starved, "5": blocked}'


def tag_table(path, machine):
    rows = ["register,format,word_order,scale,machine,signal",
            f"holding:0,uint16,big,1,{machine},state",
            f"holding:1,uint32,big,1,{machine},counter:total",
            f"holding:3,uint32,big,1,{machine},counter:reject"]
    for i in range(10):
        rows.append(f"holding:{5 + 2 * i},float32,big,1,{machine},sample:f{i:02d}")
    for i in range(87):
        rows.append(f"holding:{25 + i},int16,big,0.1,{machine},sample:v{i:02d}")
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")


def main():
    out, machines, edges, broker, poll_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    ports = [int(p) for p in sys.argv[6:]]
    if machines % (edges * 10) or len(ports) != edges:
        sys.exit("scale_plant.py: MACHINES must be a multiple of 10 x EDGES, one port per edge")
    per_edge = machines // edges
    if per_edge > 247:
        sys.exit("scale_plant.py: at most 247 machines per edge (Modbus unit ids 1..247 on one gateway)")
    os.makedirs(f"{out}/tags", exist_ok=True)
    plant = ["timezone: UTC", "shifts:",
             '  - {name: early, start: "06:00", end: "14:00"}',
             '  - {name: late, start: "14:00", end: "22:00"}',
             '  - {name: night, start: "22:00", end: "06:00"}',
             "non_production_days: []", "sites:", "  - id: scale", "    name: Scale proof plant", "    areas:"]
    paths = []
    for e in range(edges):
        area = f"a{e + 1:02d}"
        plant += [f"      - id: {area}", f"        name: Area {e + 1}", "        lines:"]
        sources = []
        for k in range(per_edge):
            line, machine = f"l{k // 10 + 1:02d}", f"m{k % 10 + 1:02d}"
            if k % 10 == 0:
                plant += [f"          - id: {line}", f"            name: Line {k // 10 + 1}", "            machines:"]
            plant += [f"              - id: {machine}", f"                name: Machine {machine}",
                      "                ideal_cycle_time_s: 0.5", "                no_data_after_s: 60",
                      f"                states: {STATES}"]
            path = f"scale/{area}/{line}/{machine}"
            paths.append(path)
            tag_table(f"{out}/tags/{area}-{line}-{machine}.csv", path)
            sources.append(f"  - {{type: modbus, address: 127.0.0.1:{ports[e]}, unit: {k + 1}, poll_ms: {poll_ms}, "
                           f"timeout_ms: 5000, tags_csv: tags/{area}-{line}-{machine}.csv}}")
        with open(f"{out}/edge-{e + 1}.yaml", "w") as f:
            f.write("\n".join([f"id: scale-edge-{e + 1}", f"data_dir: {out}/edge-{e + 1}-data",
                               f"mqtt: {{brokers: [\"{broker}\"]}}", "plant: plant.yaml", "sources:"] + sources) + "\n")
    with open(f"{out}/plant.yaml", "w") as f:
        f.write("\n".join(plant) + "\n")
    with open(f"{out}/machines.txt", "w") as f:
        f.write("\n".join(paths) + "\n")


if __name__ == "__main__":
    main()
