"""Opportunities through their stages.

- `document_rules`: Stage document rules: a stage may require, or suggest, a document of a kind.
- `funnel`: The team funnel, days in each stage, and why we lose — SQL over the stage history.
- `board`: The board: a column per stage, its first cards and its totals over every match.
- `links`: Who is involved in an opportunity: the customer's contacts with their buying role on
  it, and the competitors bidding for it with their offer.
- `opportunities`: Opportunities through pre-sale, in-sale and after-sale, with their
  append-only history.
- `search`: Finding opportunities: the missing-decision-maker flag, the list's filters and
  sorts.
- `stage_history`: Reading an opportunity's append-only history: time per stage and what each
  row changed.
- `stages`: The admin-editable stages of the sales lifecycle and their order.
- `totals`: The organisation's opportunities per stage and status, as triggers keep them (an
  admin's board reads them instead of summing every opportunity).
"""
