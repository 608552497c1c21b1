"""Airflow operators of contentops: one module per partner system, plus the cross-system steps.

Each operator is a thin class over the hooks and :mod:`contentops.pipelines`: it builds the
task's :class:`~contentops.pipelines.runtime.PipelineRun` (so every write keeps the ledger's
exactly-once contract, whatever DAG calls it) and returns ids and counts only.
"""
