"""Key-account CRM: the application package."""

from crm.app import create_app

__all__ = ["create_app"]
