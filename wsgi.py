"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi ..."""

from crm import create_app
from crm.app import settle_worker

app = create_app()
settle_worker(app)
