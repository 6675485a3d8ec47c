"""What home pages and reports count.

- `dashboards`: Home-page figures: a manager's day and a team table, one grouped query per
  figure.
- `health`: What /healthz reports: whether the database answers and when the scheduler last
  ticked.
- `lost`: Customers lost in a period, with the warning signals they showed in the six months
  before (the supervisor's home).
- `metrics`: Periods in the viewer's time zone, and the SQL pieces dashboards and reports share.
- `plans`: The plans report: per manager and week or month, plan submitted on time, late or
  missing, its completion and tasks; the ratings (优/良/中/差) per month. CSV rows too.
- `reports`: Reports over a period: visits and won amount over time, pipeline movement, win
  rate, tier coverage. Each is one grouped query over the managers in view, summed into the
  report's lines (a manager's, or a team's for an admin who chose no team), and each turns
  into CSV rows (`*_rows`) with the same numbers the page shows.
- `snapshots`: Organisation-wide funnel and days in stage, and the admin's all-teams table,
  computed by the scheduler, not per view.
- `targets`: Targets: a supervisor sets each team member's weekly visits and quarterly won
  amount.
"""
