"""Planner outputs (Flask-free): export tables and writers, public need fields, figures, map
clusters."""
