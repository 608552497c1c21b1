"""Airflow sensors of contentops (thin wrappers over the hooks)."""
