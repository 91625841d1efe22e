"""The composition root: the `wastewatch` command, the demo and its history back-fill.

Only this package wires the services together; nothing below imports it (README "Layout").
"""
