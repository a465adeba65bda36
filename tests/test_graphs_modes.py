"""graphs.modes: one vocabulary, one parser of mode words (English and Chinese synonyms)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphs.modes import (ALL_MODE_NAMES, MODES, TRANSIT, TRANSIT_MODES, ModeError, parse_mode,
                          parse_modes, synonyms)

DOC = Path(__file__).resolve().parent.parent / "docs" / "modes.md"


@pytest.mark.parametrize("word, canonical", [
    ("bicycle", "bike"), ("Cycling", "bike"), ("骑行", "bike"), ("单车", "bike"),
    ("自行车", "bike"), ("foot", "walk"), ("WALKING", "walk"), ("步行", "walk"),
    ("公交", "bus"), ("公交车", "bus"), ("地铁", "metro"), ("轨道交通", "metro"),
    ("电动车", "ebike"), ("电动自行车", "ebike"), ("E-Bike", "ebike"), ("出租车", "taxi"),
    ("网约车", "taxi"), ("有轨电车", "tram"), ("轮渡", "ferry"), ("火车", "rail"),
    ("共享单车", "bikeshare"), ("Shared bike", "bikeshare"), ("bike-share", "bikeshare"),
    ("共享自行车", "bikeshare"),
    ("市郊铁路", "rail"), ("驾车", "car_petrol"), ("私家车", "car_petrol"), ("汽车", "car_petrol"),
    ("新能源车", "car_bev"), ("电动汽车", "car_bev"), ("  Public   Transport ", TRANSIT),
    ("ｂｉｃｙｃｌｅ", "bike"), ("car_petrol", "car_petrol"), ("transit", TRANSIT),
])
def test_synonyms_map_to_canonical_names(word, canonical):
    assert parse_mode(word) == canonical


def test_lists_with_every_separator_keep_order_and_drop_repeats():
    assert parse_modes("walk+bus") == ("walk", "bus")
    assert parse_modes("Walk + 公交车, walking") == ("walk", "bus")
    assert parse_modes("步行、地铁") == ("walk", "metro")
    assert parse_modes(["骑行", "transit"]) == ("bike", TRANSIT)


@pytest.mark.parametrize("value, token", [
    ("walk,hovercraft", "hovercraft"), ("", ""), ("walk,,bus", ""), ([], ""), (["walk", 3], 3),
    ("飞机", "飞机"),
])
def test_unknown_words_raise_a_value_error_naming_them_and_the_allowed_names(value, token):
    with pytest.raises(ValueError) as err:
        parse_modes(value)
    assert isinstance(err.value, ModeError)
    assert err.value.token == token
    for name in ALL_MODE_NAMES:
        assert name in str(err.value)


def test_every_canonical_name_parses_to_itself():
    for name in ALL_MODE_NAMES:
        assert parse_mode(name) == name
    assert set(ALL_MODE_NAMES) == set(MODES) | {TRANSIT}
    assert set(TRANSIT_MODES) < set(ALL_MODE_NAMES)


def test_docs_table_matches_the_code():
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            words = re.findall(r"`([^`]+)`", cells[3])
            rows[cells[0].strip("`")] = (cells[2], words)
    assert set(rows) == set(ALL_MODE_NAMES)
    for name, (label_zh, words) in rows.items():
        for word in [name, *words] + ([label_zh] if name in MODES else []):
            assert parse_mode(word) == name, word
    # every word the code accepts appears in the table (compared after the parser's folding)
    documented = {w for name, (zh, words) in rows.items() for w in [name, *words, zh]}
    folded = {" ".join(w.casefold().replace("-", " ").replace("_", " ").split())
              for w in documented}
    assert folded >= set(synonyms())


def test_docs_access_table_matches_the_code():
    from graphs.modes import ACCESS_MODES, parse_trip_modes

    entries = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0].endswith("+transit`"):
            entries.append(cells[0].strip("`"))
    assert entries == [f"{mode}+transit" for mode in ACCESS_MODES]
    for entry, mode in zip(entries, ACCESS_MODES, strict=True):
        assert parse_trip_modes(entry) == ((TRANSIT,), (mode,))
