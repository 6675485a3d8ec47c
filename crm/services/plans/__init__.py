"""Weekly and monthly work plans (周计划 · 月计划) and the supervisor's review (工作点评).

- `periods`: weeks and months, their URL keys (2026-W50, 2026-12) and deadlines.
- `lifecycle`: draft → submitted → reviewed or returned; who may edit, submit, review.
- `week`: the weekly plan's planned visits, tasks and focus (every change recorded).
- `suggestions`: what the weekly plan offers with one tap (silent, follow-ups, handed over).
- `matching`: plan vs actual of a weekly plan; `completion_for(plans)` batched.
- `overview`: the plans page: my periods, my recent plans, the team's weeks.
- `month`: the monthly plan's goals, free text and key customers.
- `month_actuals`: a month plan's goals against the home's figures (`actuals_for` batched),
  and what happened with each key customer.
- `notices`: the manager is told of a review or a return, in the app and by email.
- `reviews`: the review queue, the panel under a plan, verdicts on the version seen.
- `nudges`: the plans a manager owes and has not handed in, for the digests.
- `team_columns`: the plan cells of the supervisor's team table, in one statement.
"""
