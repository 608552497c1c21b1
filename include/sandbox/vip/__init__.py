"""VIP sandbox. See app.py."""
