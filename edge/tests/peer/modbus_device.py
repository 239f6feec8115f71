#!/usr/bin/python3
"""A Modbus TCP device for the edge's tests (Debian's pymodbus 3.0): a filler whose PLC
cycles its state register and counts parts.

  holding 0      state: 1 running for 1 s, 2 stopped for 0.5 s, repeating
  holding 1..2   parts total, uint32, big word order (high word first); +3 every 100 ms while running
  input 0..1     temperature, float32 big/big: 20.0 up to 22.5 °C and back, every 1.5 s
  coil 0         running bit

usage: modbus_device.py PORT [REGISTERS]
  REGISTERS (default 16): size of each register and bit table (up to 65536: many-tag benchmarks)
"""
import logging
import struct
import sys
import threading
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartTcpServer


def main():
    port = int(sys.argv[1])
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    store = ModbusSlaveContext(
        di=ModbusSequentialDataBlock(0, [0] * size),
        co=ModbusSequentialDataBlock(0, [0] * size),
        hr=ModbusSequentialDataBlock(0, [i % 7 for i in range(size)]),
        ir=ModbusSequentialDataBlock(0, [i % 11 for i in range(size)]),
        zero_mode=True)
    context = ModbusServerContext(slaves=store, single=True)

    def plc():
        total = 0
        start = time.monotonic()
        while True:
            phase = (time.monotonic() - start) % 1.5
            running = phase < 1.0
            if running:
                total = (total + 3) & 0xFFFFFFFF
            hi, lo = total >> 16, total & 0xFFFF
            temp_hi, temp_lo = struct.unpack(">HH", struct.pack(">f", 20.0 + 0.5 * int(phase / 0.25)))
            store.setValues(3, 0, [1 if running else 2, hi, lo])
            store.setValues(4, 0, [temp_hi, temp_lo])
            store.setValues(1, 0, [1 if running else 0])
            time.sleep(0.1)

    threading.Thread(target=plc, daemon=True).start()
    logging.basicConfig(level=logging.WARNING)
    StartTcpServer(context=context, address=("127.0.0.1", port))


if __name__ == "__main__":
    main()
