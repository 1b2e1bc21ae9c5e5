"""The domain: areas, properties, needs, the workflow and accounts (Flask-free)."""
