# Production image: gunicorn serving wsgi:app as a non-root user.
# Migrations are a separate release step:  docker run --rm IMAGE flask db upgrade
# The job worker is the same image:        docker run IMAGE huey_consumer incubator.worker.huey -w 4 -g TERM -t 25
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    INCUBATOR_ENV=production \
    INSTANCE_PATH=/app/instance \
    FLASK_APP=wsgi \
    GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000 --workers 4 --threads 2 --access-logfile - --forwarded-allow-ips=*"

# System libraries: tini as PID 1; Pango and DejaVu fonts (Vietnamese glyphs) for WeasyPrint's PDF
# reports; the PostgreSQL client library ships inside psycopg[binary].
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY config.py wsgi.py babel.cfg ./
COPY incubator ./incubator
COPY migrations ./migrations
COPY templates ./templates
RUN pybabel compile -d incubator/translations \
    && useradd --create-home --uid 10001 incubator \
    && mkdir -p /app/instance \
    && chown incubator:incubator /app/instance

USER incubator
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
ENTRYPOINT ["tini", "--"]
# config.py holds the gunicorn settings that go with the code: the app is preloaded in the master and
# forked into the workers (shared pages), and a post_fork hook gives each worker its own database pool.
CMD ["gunicorn", "-c", "python:config", "wsgi:app"]
