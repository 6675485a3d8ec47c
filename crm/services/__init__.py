"""Domain rules as plain functions: they take the acting user as `actor=`, flush, never commit."""
