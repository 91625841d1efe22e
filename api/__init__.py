"""The HTTP API: `create_app(settings)` serves plants, readings, averages, summaries and alerts under /api/v1."""
