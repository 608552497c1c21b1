"""OpenText Trading Grid / Active Community sandbox. See app.py."""
