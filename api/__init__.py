"""The HTTP API: `create_app(settings, api)` serves plants, readings, averages, summaries and alerts under /api/v1."""
