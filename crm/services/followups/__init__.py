"""Follow-ups and mail.

- `calendar`: The personal calendar feed (.ics): a secret, revocable URL with a user's pending
  follow-ups.
- `completion`: A follow-up done together with the visit it was about: one step over two
  services.
- `notifications`: What falls due: reminder emails and daily digests, written to the outbox once
  each.
- `outbox`: The outbox: writing messages once, claiming them for a sender, recording the
  outcome.
- `outbox_filter`: The admin outbox's filter: one definition for the list and for "Retry all
  failed".
- `reminders`: Follow-up reminders (跟进提醒): scheduled from visits, moved and cancelled with them.
- `scheduler_state`: The scheduler's bookkeeping rows (its heartbeat, the stage snapshot), read
  together.
"""
