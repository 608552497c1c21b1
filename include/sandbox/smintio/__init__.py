"""Smint.io sandbox: licenses (CLAPI-C), binaries and assets (Portals backend). See app.py."""
