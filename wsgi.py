"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi ..."""

import gc

from crm import create_app

app = create_app()

# What start-up builds (the app, its routes and templates, SQLAlchemy's mappers: about
# 150,000 objects) lives as long as the worker. Frozen, it is no longer walked by every
# full garbage collection — which a large page (a supervisor's board, an admin's home)
# set off every few requests, at some 80 ms each.
gc.freeze()
