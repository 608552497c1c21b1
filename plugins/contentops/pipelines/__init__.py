"""The steps of each pipeline, as plain functions over hooks and the ledger.

DAG files only wire these together; keeping the steps here makes them testable without a
scheduler and keeps parse time low (DAG files import them inside their tasks).
"""
