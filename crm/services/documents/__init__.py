"""Documents on customers, opportunities and visits (issue 16).

- `storage`: the content-addressed store, local or S3, behind one interface.
- `sniffing`: what a file is, from its bytes; the allow-list of types.
- `thumbnails`: small previews of images.
- `library`: upload, versions, rename, soft delete; what the stage rules ask (`has_document`).
- `kinds`: the admin-editable document kinds.
- `cleanup`: the periodic job: orphaned objects and documents past their retention.
- `timeline`: the customer timeline's document entries.
"""
