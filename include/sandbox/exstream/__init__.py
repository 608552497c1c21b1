"""OpenText Exstream sandbox. See app.py."""
