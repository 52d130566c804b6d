# syntax=docker/dockerfile:1.7
# ilms-sdmx: multi-stage build. The runtime image has no compiler, runs as a non-root user,
# migrates the store and loads the shipped structures on start, then serves on port 8000.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN --mount=type=cache,target=/root/.cache/pip \
    mkdir -p service && touch service/__init__.py README.md \
    && pip install . && pip uninstall -y ilms-sdmx
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip pip install --no-deps .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    ILMS_HOME=/app ILMS_DATABASE_URL=sqlite:////data/ilms.db
RUN groupadd --system ilms && useradd --system --gid ilms --home /app ilms \
    && mkdir -p /data && chown ilms:ilms /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=ilms:ilms alembic.ini openapi.yaml ./
COPY --chown=ilms:ilms alembic ./alembic
COPY --chown=ilms:ilms codelists ./codelists
COPY --chown=ilms:ilms dsd ./dsd
COPY --chown=ilms:ilms docker/entrypoint.sh /usr/local/bin/ilms-entrypoint
USER ilms
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4).status == 200 else 1)"
ENTRYPOINT ["ilms-entrypoint"]
CMD ["--workers", "2"]
