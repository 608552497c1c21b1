"""OpenText Workflow Service sandbox. See app.py."""
