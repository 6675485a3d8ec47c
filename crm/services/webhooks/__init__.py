"""Outgoing webhooks: events told to other systems and group robots, through the outbox.

- `addresses`: Which receiver addresses a webhook may call: http(s) only, and no private
  network unless allowed.
- `catalog`: The events a subscription may choose and the body formats, with their display
  names.
- `events`: The events, one function each, called by the services where the change happens.
- `outgoing`: Queueing an event for its subscribers, and what each call carries: body,
  signature, headers.
- `payloads`: What an event says about the records it concerns: plain JSON values.
- `robot`: An event as a group robot's markdown message (企业微信 / 钉钉).
- `subscriptions`: Subscriptions for administrators: subscribe, change, rotate the secret,
  read the log.

Another area reports an event of its own with `emit(event, data, key=...)`.
"""

from crm.services.webhooks.outgoing import emit

__all__ = ["emit"]
