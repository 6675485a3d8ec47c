"""Users, teams and sign-in sessions..

- `picker`: The people pickers (crm/services/pickers.py): owners, new owners, members,
  managers.
- `sessions`: Sign-ins as rows: each browser's sign-in has its own key, and signing out deletes
  it.
- `tokens`: Personal access tokens of the JSON API: made once, kept hashed, revocable.
- `teams`: Teams: creating, renaming, choosing the supervisor and moving members.
- `users`: Creating and changing user accounts; only admins manage other users.
"""
