"""Gunicorn settings for production: gunicorn -c scripts/gunicorn.conf.py wsgi:app

Every value can be overridden from the environment (GUNICORN_* below) or the command line.
Web workers are stateless: sessions live in signed cookies, rate limits in Redis
(CRM_RATELIMIT_STORAGE_URI), data in PostgreSQL. The scheduler is a separate process
(`flask --app wsgi crm scheduler`), never started inside a worker.

Connections: each worker holds up to CRM_DB_POOL_SIZE (default 5) PostgreSQL connections
plus SQLAlchemy's overflow of 10; with sync workers one request uses one connection, so
workers × (pool size + overflow) + 2 (scheduler, migrations) must stay below PostgreSQL's
max_connections (100 by default): 4 workers × 15 + 2 = 62.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the pages are short database-bound requests; 2 × cores + 1 is the usual start.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # a 20 MB CSV import fits in it
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then: a slow leak cannot grow forever.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# Behind a reverse proxy on the same host (nginx): trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Access lines go to stderr beside the app's own lines (which carry the request id).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # "" switches it off
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Load the app in each worker (not in the master): every worker opens its own pool.
preload_app = False
