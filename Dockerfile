# Image for the lexi_pipelines code server, the Dagster webserver and the Dagster daemon
# (docker-compose.yml runs all three from it with different commands).
#
#   docker build -t lexi-pipelines:local .
FROM python:3.11-slim

# Comma-separated pyproject extras to install (e.g. "dev"). Empty keeps the image lean.
ARG LEXI_EXTRAS=""
ARG TORCH_VERSION=2.13.0

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    LEXI_HOME=/var/lib/lexi \
    LEXI_STORAGE_PATH=/var/lib/lexi/storage

WORKDIR /opt/dagster/app

# Unprivileged runtime user. The directories are created (and owned) here so that named
# volumes mounted on them start out writable by that user.
RUN useradd --system --uid 10001 --user-group --home-dir /opt/dagster --shell /usr/sbin/nologin dagster \
    && mkdir -p "${DAGSTER_HOME}/storage" "${LEXI_STORAGE_PATH}" \
    && chown -R dagster:dagster "${DAGSTER_HOME}" "${LEXI_HOME}"

# torch goes first and from the CPU wheel index: resolved from PyPI as a dependency of
# sentence-transformers it would pull the multi-GB CUDA build.
RUN pip install "torch==${TORCH_VERSION}" --index-url https://download.pytorch.org/whl/cpu

# README* is optional in the glob but pyproject.toml references README.md as the readme.
COPY pyproject.toml README* ./
COPY lexi_pipelines ./lexi_pipelines
RUN if [ -n "${LEXI_EXTRAS}" ]; then pip install ".[${LEXI_EXTRAS}]"; else pip install .; fi \
    && rm -rf build ./*.egg-info

# Local (in-process) workspace; docker-compose.yml mounts deploy/workspace.compose.yaml over it
# for the webserver and daemon so they load user code from the code server over gRPC.
COPY workspace.yaml ./workspace.yaml
COPY --chown=dagster:dagster dagster.yaml ${DAGSTER_HOME}/dagster.yaml

USER dagster

EXPOSE 3000 4000

# Default role: the code server. The webserver and daemon override the command.
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", \
     "-m", "lexi_pipelines.definitions", "--location-name", "lexi_pipelines"]
