"""The OpenAPI 3.0 description of the JSON API under ``/api`` (served at ``/api/openapi.json``).

Written by hand next to the views it describes (``api`` and ``matches``), but for the request
schema of a need, which is ``NeedInput``'s own (``spacematch.domain.need_input``, converted to
OpenAPI 3.0 by ``schemas._need_input``): one definition of its fields and limits. In three
modules: ``builders`` (parameters, operations, objects), ``schemas`` (the components) and
``paths`` (the paths and the whole ``document``). ``tests/test_openapi.py`` validates it,
checks that every ``/api`` route is in it and every path in it is a route, and runs
schemathesis against the app with it, so a drift shows up as a failing test.

The request schema of a need is the canonical form from DESIGN.md (numbers as JSON numbers,
``uses`` and ``areas`` as lists, ``point`` as ``[lon, lat]``). ``NeedInput`` is more lenient
for the intake form's sake (numbers as decimal strings, lists as comma-separated strings,
``point`` as ``"lon,lat"``, ``accessible`` as ``"true"``/``"1"``/``"on"``...); that is said in the
descriptions, not in the schemas, so generated clients send the canonical form. Rules across
fields (``min_area_m2 <= max_area_m2``, a point inside Amsterdam, ``needed_from`` not in the past,
at least one area or a point) are described too; a need breaking one gets a 400 naming the field.

The OGC API under ``/ogc`` has its own document at ``/ogc/api`` (``spacematch/web/ogc/openapi.py``).
"""

from __future__ import annotations

from spacematch.web.openapi.paths import document

__all__ = ["document"]
