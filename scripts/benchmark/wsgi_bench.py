"""The bench app (with the floor route) for gunicorn: BENCH_DATABASE_URL names the database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.benchmark.app import make_app  # noqa: E402

app, _ = make_app(os.environ["BENCH_DATABASE_URL"])
