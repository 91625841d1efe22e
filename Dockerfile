# One image for every wastewatch service: slim, non-root.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WASTEWATCH_DATA_DIR=/var/lib/wastewatch
WORKDIR /app
COPY pyproject.toml README.md ./
COPY wastewatch ./wastewatch
COPY ingest ./ingest
COPY simulators ./simulators
COPY alerts ./alerts
RUN pip install --no-cache-dir . \
 && useradd --system --uid 10001 --home-dir /var/lib/wastewatch wastewatch \
 && mkdir -p /var/lib/wastewatch && chown wastewatch /var/lib/wastewatch
USER wastewatch
ENTRYPOINT ["wastewatch"]
CMD ["--help"]
