#!/usr/bin/python3
"""Simulated PLCs for bench/scale_proof.sh (Debian's pymodbus 3.0): one Modbus TCP server (a
gateway) answering for many devices, one unit id each, every device a machine with 100 tags in
holding registers 0..111 (one read of 112 registers):

  0        state: 1 running; a stop now and then (2 stopped, 3 setup, 4 starved, 5 blocked)
  1..2     counter:total, uint32 big word order: parts made while running
  3..4     counter:reject, uint32: about 2 % of the parts
  5..24    10 process values, float32
  25..111  87 process values, int16 scaled by 0.1

Each process value changes on its own period, drawn around SAMPLE_PERIOD_S (a historian's
deadband: a value that moves less is not a change), so the edge sends sample events at a
realistic rate. The probe unit's state register is left alone: bench/scale_probe.py writes it.

usage: scale_devices.py PORT UNITS SAMPLE_PERIOD_S PROBE_UNIT(0 = none) SEED
"""
import logging
import math
import random
import struct
import sys
import threading
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartTcpServer

REGISTERS = 112
FLOATS = 10
INTS = 87
TICK_S = 0.5
MEAN_RUN_S = 600.0
MEAN_STOP_S = 60.0
CYCLE_S = 0.5  # parts every half second while running (the plant's ideal_cycle_time_s)


class Machine:
    def __init__(self, rng, period_s):
        self.rng = rng
        self.state = 1
        self.state_until = time.monotonic() + rng.expovariate(1 / MEAN_RUN_S)
        self.total = rng.randrange(0, 1 << 20)
        self.reject = 0
        self.parts = 0.0
        self.values = [rng.uniform(10, 90) for _ in range(FLOATS + INTS)]
        # Per tag: the chance of a change in one tick, from a period between 0.5 and 1.5 x the mean.
        self.change_p = [min(1.0, TICK_S / (period_s * rng.uniform(0.5, 1.5))) for _ in self.values]

    def step(self, now):
        rng = self.rng
        if now >= self.state_until:
            if self.state == 1:
                self.state = rng.choice((2, 3, 4, 5))
                self.state_until = now + rng.expovariate(1 / MEAN_STOP_S)
            else:
                self.state = 1
                self.state_until = now + rng.expovariate(1 / MEAN_RUN_S)

    def produce(self, running):
        if not running:
            return
        # A little below the ideal rate: a speed loss for the KPIs to show.
        self.parts += TICK_S / CYCLE_S * self.rng.uniform(0.85, 1.0)
        made = int(self.parts)
        self.parts -= made
        for _ in range(made):
            self.total = (self.total + 1) & 0xFFFFFFFF
            if self.rng.random() < 0.02:
                self.reject = (self.reject + 1) & 0xFFFFFFFF

    def move_values(self):
        rng = self.rng
        for i, p in enumerate(self.change_p):
            if rng.random() < p:
                step = rng.choice((-1, 1)) * rng.uniform(0.2, 1.5)
                self.values[i] = min(95.0, max(5.0, self.values[i] + step))

    def registers(self):
        regs = [self.state, self.total >> 16, self.total & 0xFFFF, self.reject >> 16, self.reject & 0xFFFF]
        for v in self.values[:FLOATS]:
            regs.extend(struct.unpack(">HH", struct.pack(">f", v)))
        for v in self.values[FLOATS:]:
            regs.append(int(math.floor(v * 10)) & 0xFFFF)
        return regs


def main():
    port, units, period_s, probe_unit, seed = (int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]),
                                               int(sys.argv[4]), int(sys.argv[5]))
    rng = random.Random(seed)
    stores = {}
    machines = {}
    for unit in range(1, units + 1):
        # Every table given: pymodbus's default ones hold 65,536 registers each (300 MB for 200 units).
        stores[unit] = ModbusSlaveContext(di=ModbusSequentialDataBlock(0, [0]), co=ModbusSequentialDataBlock(0, [0]),
                                          hr=ModbusSequentialDataBlock(0, [0] * REGISTERS),
                                          ir=ModbusSequentialDataBlock(0, [0]), zero_mode=True)
        machines[unit] = Machine(random.Random(rng.random()), period_s)
    context = ModbusServerContext(slaves=stores, single=False)
    stores.get(probe_unit, stores[1]).setValues(3, 0, [1])

    def plc():
        while True:
            now = time.monotonic()
            for unit, m in machines.items():
                if unit == probe_unit:
                    m.state = stores[unit].getValues(3, 0, 1)[0]
                else:
                    m.step(now)
                m.produce(m.state == 1)
                m.move_values()
                regs = m.registers()
                # One slice assignment per device: a poll never sees half of a 32-bit counter.
                if unit == probe_unit:
                    stores[unit].setValues(3, 1, regs[1:])
                else:
                    stores[unit].setValues(3, 0, regs)
            time.sleep(max(0.0, TICK_S - (time.monotonic() - now)))

    threading.Thread(target=plc, daemon=True).start()
    logging.basicConfig(level=logging.ERROR)
    StartTcpServer(context=context, address=("127.0.0.1", port))


if __name__ == "__main__":
    main()
