"""Pure field mappings between systems (no Airflow, no HTTP), one module per pair of concerns.

- :mod:`contentops.mapping.titles`: Consonance titles <-> Smint.io assets (metadata and tags,
  format pairing, usage-rights summaries, the title/asset matching rule, latest vs outdated).
"""
