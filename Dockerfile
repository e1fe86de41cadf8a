# The Slack app: `chatops serve` on port 3000, as a non-root user, with the store on a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PORT=3000
WORKDIR /app

COPY pyproject.toml README.md config.example.yaml ./
COPY bot ./bot
COPY handlers ./handlers
COPY sandbox ./sandbox
COPY playbooks ./playbooks
RUN pip install . && useradd --system --uid 10001 --home-dir /data chatops && mkdir -p /data && chown chatops /data

USER chatops
WORKDIR /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2).status != 200)"
ENTRYPOINT ["chatops"]
CMD ["serve", "--port", "3000"]
