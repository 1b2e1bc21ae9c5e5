"""Run by tests/test_ogc_clients.py under the system Python (Debian python3-qgis), headless:
loads each collection of an OGC API with QGIS's own OAPIF provider and prints, as one JSON line,
what QGIS made of it (validity, featureCount before and after reading, the layer's type, each
feature's type, ids, CRS, extent). Usage: python3 qgis_read.py URL COLLECTION..."""

import json
import os
import sys

from qgis.core import QgsApplication, QgsVectorLayer, QgsWkbTypes


def read(url: str, cid: str) -> dict:
    uri = f"url='{url}' typename='{cid}' pagingEnabled='true' pageSize='1000'"
    layer = QgsVectorLayer(uri, cid, "OAPIF")
    out = {"valid": layer.isValid(), "count_before": layer.featureCount()}
    types, ids = set(), []
    if layer.isValid():
        for feature in layer.getFeatures():
            types.add(QgsWkbTypes.displayString(feature.geometry().wkbType()))
            ids.append(str(feature["id"]))
    extent = layer.extent()
    out.update(
        count=layer.featureCount(),
        type=QgsWkbTypes.displayString(layer.wkbType()),
        feature_types=sorted(types),
        ids=ids,
        crs=layer.crs().authid(),
        extent=[extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
    )
    return out


def main() -> None:
    app = QgsApplication([], False)
    app.initQgis()
    result = {cid: read(sys.argv[1], cid) for cid in sys.argv[2:]}
    print(json.dumps(result), flush=True)
    # QGIS 3.22 may crash in exitQgis() while a layer's downloader thread winds down; the
    # answer is out, so leave without the teardown.
    os._exit(0)


if __name__ == "__main__":
    main()
