"""One hook per partner system, all on the shared transport in :mod:`contentops.hooks.transport`."""
