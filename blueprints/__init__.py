"""One package per area of the app: __init__ (bp), routes.py, forms.py."""
