# The fake as a container image.
#
#   docker build --network host -t mockserver .
#   docker run --rm -p 127.0.0.1:8080:8080 mockserver
#
# Where python:3.12-slim cannot be pulled, build the Debian base from this machine first
# (container/build-base.sh) and pass it: --build-arg BASE=mockserver-base:local.
#
# Settings: every MOCKSERVER_* variable of `mockserver serve` (MOCKSERVER_PORT, _FIRST_ID, _STRICT,
# _MAX_BODY_SIZE, _INSTALLATION, _CREDENTIALS, _JOURNAL_LIMIT, _ADMIN_TOKEN, _CONTRACTS, _STATE,
# _LOG_CALLS, and _HOST). The image sets MOCKSERVER_HOST=0.0.0.0 and MOCKSERVER_PORT=8080 rather than
# passing --host/--port, because options on the command line win over the variables: this way
# `-e MOCKSERVER_PORT=9000` works, and the health check (which reads the same variables) follows.
#
# State: nothing survives the container unless MOCKSERVER_STATE names a file; the convention is
# the volume at /data: -v somewhere:/data -e MOCKSERVER_STATE=/data/state.sqlite keeps ids,
# images and the journal across restarts. The fake runs as uid/gid 10001, which must be able to
# write there (a named volume is; chown a bind-mounted folder to 10001:10001).
#
# Bound beyond loopback (the default here) without MOCKSERVER_ADMIN_TOKEN the fake warns on
# stderr that anyone who can reach it can read the journal and images under /_.

# For a build that cannot drift, pin the base by digest: --build-arg BASE=python:3.12-slim@sha256:...
ARG BASE=python:3.12-slim

# ---- build: a venv with the package and its runtime dependencies, nothing else -----------------
FROM ${BASE} AS build
# pip network settings from the building machine, when it needs them (proxies: the predefined
# HTTP_PROXY/HTTPS_PROXY/NO_PROXY build args).
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
# Wheels only (no compiler is needed or present); the local project itself is built by hatchling.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ONLY_BINARY=:all: \
    PIP_CONSTRAINT=/src/container/constraints.txt \
    PYTHONDONTWRITEBYTECODE=1 \
    SOURCE_DATE_EPOCH=315532800
WORKDIR /src
# The whole context: .dockerignore lets in only what `pip install .` reads and the two container files.
COPY . .
# Then check that the installed wheel carries its contracts and loads them from its own copy.
RUN python3 -m venv /opt/mockserver \
 && /opt/mockserver/bin/python -m pip install . \
 && cd / \
 && /opt/mockserver/bin/mockserver check > /tmp/contracts \
 && cat /tmp/contracts \
 && grep -q '^ok: /opt/mockserver/.*/SaveImageStream.toml: ' /tmp/contracts \
 && ! grep -v '^ok: /opt/mockserver/' /tmp/contracts

# ---- the image ------------------------------------------------------------------------------------
FROM ${BASE}
COPY --from=build /opt/mockserver /opt/mockserver
COPY container/healthcheck.py /opt/mockserver/healthcheck.py
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mockserver \
 && mkdir /data \
 && chown 10001:10001 /data
ENV PATH=/opt/mockserver/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MOCKSERVER_HOST=0.0.0.0 \
    MOCKSERVER_PORT=8080
USER 10001:10001
WORKDIR /data
VOLUME /data
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=4s --start-period=20s --retries=3 \
    CMD ["/opt/mockserver/bin/python", "-I", "/opt/mockserver/healthcheck.py"]
# = mockserver serve --host 0.0.0.0 --port 8080, through the two variables above.
CMD ["mockserver", "serve"]
