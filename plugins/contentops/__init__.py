"""contentops: rights-safe content flows between Smint.io and its partner systems.

The package is an Airflow provider (see :mod:`contentops.provider_info`) plus the pure
domain core (:mod:`contentops.rights`, :mod:`contentops.models`, :mod:`contentops.ledger`)
that the hooks, operators and DAGs build on.
"""

__version__ = "0.1.0"
