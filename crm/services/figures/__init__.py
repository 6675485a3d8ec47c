"""Monthly business figures per customer (经营数据), as the billing system exports them.

- `merge`: A customer merge's rule for business figures: months both customers have are added
  up.
- `months`: Calendar months as the figures count them: the first day stands for the month.
- `panels`: What the customer page and the figures page show of a customer's figures.
- `trend`: The revenue trend of each customer (last three months against the three before),
  refreshed set-based after an import or a merge; the list's trend filter.
"""
