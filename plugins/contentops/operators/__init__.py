"""Airflow operators of contentops (thin wrappers over the hooks)."""
