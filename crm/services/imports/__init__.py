"""CSV in and out.

- `batch`: CSV import of customers, contacts and monthly business figures: a dry run that names
  every bad row, then an all-or-nothing commit written with set-based SQL.
- `contacts`: The checks of an imported contact file: the customer, the person, the reporting
  lines.
- `customers`: The checks of an imported customer file: credit codes, parents, industries,
  owners.
- `figures`: The checks and the write of a monthly business figures file (经营数据), from
  billing: a month replaced for the customers in the file, and how many figures changed.
- `exports`: CSV export of customers and contacts, in the layout the importer reads back.
- `rules`: What checking an imported row needs, whatever the file holds: the column readers.
"""
