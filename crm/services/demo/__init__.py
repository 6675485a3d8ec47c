"""The demo organisation for trying the app.

- `assessment`: Two years of business figures, targets, temporary tasks, published
  months and quarters; last month and last quarter left to publish.
- `archive`: The demo customer archive: fictional Chinese customers, contacts and competitor
  profiles.
- `check_ins`: Demo check-ins: customer sites and the recent on-site visits checked in near them.
- `figures`: Demo business figures' story: every customer's revenue trend, and why each lost
  customer left, with the warning signs its health history showed before.
- `health`: Demo customer health: the pass run once over the finished demo (its last step).
- `organisation`: The demo organisation: fictional people and companies for trying the app.
- `service`: A year of service tickets: most closed after the revisit with a score, some
  still open, overdue or waiting for the revisit; sliding customers complain again and again.
- `plans`: A year of weekly and monthly plans on the demo's visits, reviews and returns,
  comments on visits and the notices they sent.
- `pipeline`: A year of demo pipeline and work log: opportunities through every stage, visits,
  follow-ups.
"""
