"""Handing customer portfolios between managers.

- `lists`: What the handover pages list: handovers, requests, owners and customers, each in
  scope.
- `notices`: Handover emails through the outbox: the new owner, the previous owners, their
  supervisors.
- `requests`: Managers ask their supervisor to hand a customer over; the supervisor approves or
  declines.
- `scope`: Which customers of a handover a user may see.
- `timeline`: The customer timeline's handover source: who handed the customer to whom, when,
  and why.
- `transfer`: Handing customer portfolios from one manager to another: preview, commit, undo.
- `undo`: Undoing a handover within 7 days: a new recorded handover back to the previous owners.
"""
