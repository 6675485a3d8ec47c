"""What managers do with customers.

- `cadence`: Visit cadences per tier and the silent-customer rule (沉默客户).
- `check_in`: On-site check-in (外勤签到): the visit's location against the customer's site.
- `comments`: Comments on a visit (点评): the supervisor's word on one visit, and replies.
- `timeline`: The customer timeline: visits, stage changes, archive changes and follow-ups,
  newest first.
- `timeline_item`: One event on the customer timeline, as every source of events returns it.
- `visits`: Visits (客户拜访): logging, editing and deleting the work log, with their side effects.
- `work_log`: The work log (工作日志): a week of visits per person, in the viewer's time zone.
"""
