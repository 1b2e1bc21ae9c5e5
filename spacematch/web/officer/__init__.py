"""The officer's pages: property list, one property, allocation, layers and their import
reports (one blueprint)."""

from spacematch.web.officer import allocation, layers, properties, property
from spacematch.web.officer.blueprint import bp

__all__ = ["allocation", "bp", "layers", "properties", "property"]
