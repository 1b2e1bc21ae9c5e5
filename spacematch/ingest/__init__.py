"""The layer-file pipeline: read, limit, map, check and import property layers (Flask-free)."""
