"""After-sale service tickets (售后服务): complaints and service requests per customer.

- `sla`: hours to resolve by severity (settings), the due time in the owner's zone, overdue.
- `lifecycle`: opening, taking in hand, resolving (with the revisit follow-up), closing with
  the customer's satisfaction, reopening, a new handler; one TicketEvent per change.
- `search`: the ticket list's filters, sorts and scoped SELECT.
- `summary`: counts for the customer page's panel and the homes' overdue figure.
- `timeline`: the customer timeline's ticket entries (and the panel's counts with them).
"""
