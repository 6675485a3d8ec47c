"""Performance assessment (绩效考核): monthly and quarterly scorecards of account managers.

- `periods`: months (2026-03) and quarters (2026-Q1), cut in the organisation's zone.
- `catalog`: the indicators (the operators' sheet 01–07, CRM activity C1–C7) and the
  built-in example weight sets.
- `formulas`: one small pure function per indicator, in the sheet's words.
- `weights`: weight sets per level and period kind, versioned; the one in force.
- `targets`: targets per manager and period (set, standing, level default); CSV import.
- `tasks`: temporary tasks (临时任务), set and scored with a comment by the supervisor.
- `assessing`: a supervisor's changes (targets, tasks, scores), each refreshing the drafts.
- `inputs`: the figures a period's sheet needs, for many managers at once (set-based).
- `scoring`: the cards: each line's actual, target and points, and the total.
- `store`: drafts recomputed, publications frozen; what the pages read.
- `sheets`: the team's ranking with changes, the department's teams, the CSV sheet.
- `records`: the records behind one line of a manager's sheet.
- `review`: the level review after a quarter (information, never a change).
- `job`: the scheduler's hourly drafts of the open periods (and the CLI's).
- `words`: what the sheet's notes and target sources say.
"""
