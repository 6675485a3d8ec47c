"""Telling a user what happened (站内通知), in the app and by email.

- `delivery`: One event to one person: an in-app notice and an email through the outbox.
- `inbox`: A user's own notices: the list, the unread count of the bell, marking them read.
"""
