# syntax=docker/dockerfile:1
# PeerMatch production image: multi-stage, runs as a non-root user, applies migrations, serves.
# Needs PEERMATCH_DATABASE_URL and PEERMATCH_SECRET_KEY (production mode refuses demo secrets).

# 1. Front-end assets from the npm registry, by package name (same make target as development).
FROM node:20-bookworm AS assets
WORKDIR /app
COPY package.json package-lock.json Makefile ./
RUN make assets

# 2. Python environment with the application installed.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY pyproject.toml setup.py README.md ./
COPY peermatch ./peermatch
RUN /opt/venv/bin/pip install -e .

# 3. Runtime: only the virtual environment, the source, templates, data and built assets.
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PEERMATCH_MODE=production \
    PEERMATCH_HOST=0.0.0.0 \
    PEERMATCH_PORT=8000
RUN groupadd --system peermatch && useradd --system --gid peermatch --home /app peermatch
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY templates ./templates
COPY data ./data
COPY --from=assets /app/peermatch/static/vendor ./peermatch/static/vendor
RUN chown -R peermatch:peermatch /app/data
USER peermatch
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1
CMD ["sh", "-c", "peermatch db upgrade && exec peermatch serve"]
