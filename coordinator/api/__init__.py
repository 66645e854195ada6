"""The JSON API (/api/v1): one module per resource, the same services and policies as the pages."""
