"""Ingest: MQTT → decode → InfluxDB (or the spool while it is down), acknowledging only durable data."""
