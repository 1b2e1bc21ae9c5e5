import numpy as np
import pytest


@pytest.fixture
def areas(area_index):
    return area_index


def test_real_gebiedsindeling_counts(area_records):
    levels = [r["level"] for r in area_records]
    assert levels.count("buurt") == 518
    assert levels.count("wijk") == 110
    assert levels.count("gebied") == 25
    assert levels.count("stadsdeel") == 9


def test_levels_nest_exactly(areas):
    total = sum(areas.geoms[b].area for b in areas.buurt_codes)
    stadsdelen = sum(areas.geoms[c].area for c in areas.codes if areas.levels[c] == "stadsdeel")
    assert stadsdelen == pytest.approx(total, rel=1e-6)
    assert len(areas.buurten_in("A")) == sum(1 for b in areas.buurt_codes if b.startswith("A"))
    assert "AE02" in areas.buurten_in("AE")
    assert "AE02" in areas.buurten_in("GA01")  # gebied Centrum-West
    assert areas.buurten_in("ZZ") == []


def test_dam_lies_in_oude_kerk(areas):
    assert list(areas.buurt_of_points(np.array([121394.0]), np.array([487375.0]))) == ["AE02"]
    assert areas.names["AE02"] == "Oude Kerk e.o."
    assert areas.lineage("AE02") == ["A", "GA01", "AE", "AE02"]
    assert areas.names["A"] == "Centrum"


def test_point_outside_amsterdam_has_no_buurt(areas):
    # Utrecht Dom tower, in RD New
    assert areas.buurt_of_points(np.array([136_900.0]), np.array([455_900.0]))[0] is None


def test_adjacency_is_symmetric_and_local(areas):
    neighbours = areas.adjacent("AE02")
    assert "AE01" in neighbours and "AE02" not in neighbours
    for b in areas.buurt_codes:
        for n in areas.adjacent(b):
            assert b in areas.adjacent(n)
    # Noord and Zuidoost are far apart: no buurt of one touches the other
    assert not any(n.startswith("T") for b in areas.buurten_in("N") for n in areas.adjacent(b))
    # every buurt has at least one neighbour
    assert all(areas.adjacent(b) for b in areas.buurt_codes)


def test_find_by_name_and_code(areas):
    hits = areas.find("oude kerk")
    assert hits[0]["code"] == "AE02"
    assert areas.find("AE02")[0]["code"] == "AE02"
    assert areas.by_name("Centrum") == "A"
    assert areas.by_name("does not exist") is None
