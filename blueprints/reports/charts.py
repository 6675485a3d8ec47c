"""Chart specs (for static/js/charts.js) of the reports page."""

from __future__ import annotations

from flask_babel import gettext as _

from crm.services.reporting import reports


def _series_chart(series: reports.Series, stacked: bool = True) -> dict:
    return {
        "type": "bar",
        "stacked": stacked,
        "labels": [reports.bucket_label(b) for b in series.buckets],
        "datasets": [
            {
                "label": line.name,
                "data": [float(series.get(line, i)) for i in range(len(series.buckets))],
            }
            for line in series.lines
        ],
    }


def reports_charts(visits, won, movement, coverage) -> dict:
    return {
        "visits": _series_chart(visits),
        "won": _series_chart(won),
        "movement": {
            "type": "bar",
            "labels": [r.line.name for r in movement],
            "datasets": [
                {"label": _("Entered"), "data": [r.entered for r in movement]},
                {"label": _("Advanced"), "data": [r.advanced for r in movement]},
                {"label": _("Won"), "data": [r.won for r in movement]},
                {"label": _("Lost"), "data": [r.lost for r in movement]},
            ],
        },
        "win_rate": {
            "type": "bar",
            "labels": [r.line.name for r in movement],
            "datasets": [
                {
                    "label": _("Win rate (%)"),
                    "data": [float(r.win_rate or 0) for r in movement],
                }
            ],
        },
        "coverage": {
            "type": "bar",
            "labels": [r.line.name for r in coverage],
            "datasets": [
                {"label": _("Coverage (%)"), "data": [float(r.share or 0) for r in coverage]}
            ],
        },
    }
