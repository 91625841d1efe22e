# One image for every wastewatch service (ingest, alerts, api, compliance, simulator): slim, non-root.
FROM python:3.11.10-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WASTEWATCH_DATA_DIR=/var/lib/wastewatch
WORKDIR /app
COPY pyproject.toml README.md ./
COPY wastewatch ./wastewatch
COPY ingest ./ingest
COPY simulators ./simulators
COPY alerts ./alerts
COPY compliance ./compliance
COPY api ./api
COPY grafana ./grafana
COPY launch ./launch
RUN pip install --no-cache-dir . \
 && useradd --system --uid 10001 --home-dir /var/lib/wastewatch --shell /usr/sbin/nologin wastewatch \
 && mkdir -p /var/lib/wastewatch/alerts && chown -R wastewatch:wastewatch /var/lib/wastewatch
USER 10001
VOLUME ["/var/lib/wastewatch"]
ENTRYPOINT ["wastewatch"]
CMD ["--help"]
