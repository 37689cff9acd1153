# EchoStats service image. Runs as an unprivileged user; data lives in the /data volume.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY echostats ./echostats
COPY actors ./actors
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 echostats \
    && mkdir /data && chown echostats:echostats /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER echostats
WORKDIR /home/echostats
ENV ECHOSTATS_HOST=0.0.0.0 \
    ECHOSTATS_PORT=8000 \
    ECHOSTATS_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status != 200)"
CMD ["echostats", "serve"]
