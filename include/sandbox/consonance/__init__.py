"""Consonance sandbox: title management over GraphQL and the REST v4 Product API."""
