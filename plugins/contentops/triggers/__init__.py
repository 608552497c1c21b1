"""Airflow triggers of contentops (thin wrappers over the hooks)."""
