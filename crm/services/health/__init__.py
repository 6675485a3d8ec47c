"""Customer health: warning signals, a score and a band per customer, and early warnings.

- `alerts`: Telling people a customer has entered "at risk": an email each, once per entry.
- `assessment`: The health pass: every customer's score, band and reasons, in one set-based
  sweep.
- `at_risk`: The early-warning list: customers in scope by health band, worst first, why each
  is there.
- `explain`: Each stored factor in words, and which records it rests on.
- `history`: The trend: a customer's score and band on each day they changed, and who
  worsened.
- `job`: When the health pass runs: nightly, and soon after a figures import.
- `signals`: The warning signals of customer health, their weights and the band thresholds.
- `sources`: What each signal reads: one grouped query per source over every customer at once.
"""
