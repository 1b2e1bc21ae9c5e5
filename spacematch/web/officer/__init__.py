"""The officer's pages: property list, one property, allocation (one blueprint)."""

from spacematch.web.officer import allocation, properties, property
from spacematch.web.officer.blueprint import bp

__all__ = ["allocation", "bp", "properties", "property"]
