"""The field end: `wastewatch edge`, run on a small box at the plant.

It polls the plant's PLC and CEMS analysers (Modbus TCP/RTU, OPC UA), publishes the MQTT contract
the ingest reads, and keeps every polled value in an on-disk queue while the broker is unreachable.
"""
