# One Burn Chat process. Nothing is written at run time (no database, no files, no
# logs about rooms), so it runs as a non-root user with a read-only root filesystem:
#   docker build -t burnchat . && docker run --read-only -p 8000:8000 \
#     -e BURNCHAT_ALLOWED_HOSTS=chat.example.org burnchat
# Put it behind TLS (WebCrypto needs https); compose.yaml has the scale-out set-up.
FROM python:3.11.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
COPY requirements.txt requirements-redis.txt ./
RUN pip install --no-compile -r requirements.txt -r requirements-redis.txt
COPY app.py ./
COPY burnchat/ burnchat/
COPY templates/ templates/
COPY static/ static/
COPY release/ release/
# Bytecode made now, while the filesystem is writable; the running app writes none.
RUN python -m compileall -q app.py burnchat \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin burnchat

USER 10001:10001
EXPOSE 8000
# /healthz answers 200 "ok" and nothing else (burnchat/views.py).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
CMD ["python", "app.py"]
