"""The customer archive.

- `competitors`: The competitor registry, competitor profiles per customer, and where
  competitors are present.
- `contacts`: Contacts at a customer: buying roles, reporting lines and the relationship map.
- `customers`: Creating, changing and deleting customers: the rules of the archive's core
  record.
- `groups`: Customer groups (集团 and 分公司): walking the parent links both ways in one statement.
- `hub`: What the customer's pages gather about one customer: its opportunities, pending
  follow-ups, and the contacts and opportunities its forms offer.
- `identity`: Telling customers apart: the unified social credit code and normalised names.
- `lock`: The customer row lock that writes share with handovers.
- `loss`: Losing a customer: why, to which competitor, and when; and winning it back.
- `merge`: Merging a duplicate customer into the one that survives (administrators only).
- `picker`: Finding a customer by name: for a form that starts without one (a visit, a
  follow-up), and for the searchable customer pickers (crm/services/pickers.py).
- `reference`: Admin-editable reference data: the industries customers are classified by.
- `search`: The customer list's search, filters and sort, shared by the list page and the
  export.
- `search_backlog`: Bigrams left for later: a bulk write lists its rows, the scheduler cuts
  them in batches.
- `search_index`: Narrowing the customer search by its bigram index (models/search_grams.py).
"""
