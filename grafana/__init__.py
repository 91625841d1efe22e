"""Grafana dashboards as code, their generated JSON and provisioning (issue 6)."""
