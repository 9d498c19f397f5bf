# Nautes portal: one image for the web server, the worker and the migrations job.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    NAUTES_DATA_DIR=/var/lib/nautes NAUTES_STATIC_ROOT=/app/staticfiles \
    DJANGO_SETTINGS_MODULE=nautes_portal.settings

# git: the local backend and history; no compiler is needed (all wheels are binary).
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/nautes --create-home nautes

WORKDIR /app
COPY . .
RUN pip install --upgrade pip \
 && pip install -e . \
 && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

USER 10001
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "nautes_portal.wsgi"]
