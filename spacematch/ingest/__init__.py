"""The layer-file pipeline: reading, mapping, checking and importing property layers."""
