"""The sample cities: which files make each one, where they come from, their checksums.

Sample data is found through a folder the caller names (``TANLU_SAMPLE_DIR`` at the edge);
``fetch_sample`` downloads a city's files from their public source, pinned by sha256, for users
with internet. Nothing here runs at import time or in tests against the network.
"""
from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import InputFileError
from .hashing import file_sha256

__all__ = ["SampleFile", "SampleCity", "SAMPLES", "sample_city", "sample_paths", "fetch_sample"]

_R5R = ("https://raw.githubusercontent.com/ipeaGIT/r5r/"
        "65e61dfce4c24e53293b9c919c701399f752f549/r-package/inst/extdata")
_R5PY = ("https://raw.githubusercontent.com/r5py/r5py/"
         "059516d5b5c1a577225d3455939abb21bdcf1cbe/docs/data")


@dataclass(frozen=True)
class SampleFile:
    """One file of a sample city: its name in the city folder, its public URL and sha256.

    ``url`` is None for a file derived from another sample (it is in the shared data folder,
    with a SOURCE.md saying how it was made, but has no public download).
    """

    name: str
    url: str | None
    sha256: str


@dataclass(frozen=True)
class SampleCity:
    """A sample city: its folder name, OSM file (None if it has none) and GTFS feeds."""

    name: str
    osm: SampleFile | None
    gtfs: tuple[SampleFile, ...]
    date: str  # a date the feeds run on, for examples and tests
    description: str

    @property
    def files(self) -> tuple[SampleFile, ...]:
        return ((self.osm,) if self.osm else ()) + self.gtfs


SAMPLES: dict[str, SampleCity] = {c.name: c for c in (
    SampleCity(
        "porto-alegre",
        SampleFile("poa_osm.pbf", f"{_R5R}/poa/poa_osm.pbf",
                   "d0d692b2b13c3ccabb494856966ea40068fbb3b6d5534b70b9234c74f465787d"),
        (SampleFile("poa_eptc.zip", f"{_R5R}/poa/poa_eptc.zip",
                    "90f9e66980efc998d4bf69f13b760b93bb85bf41f884eb6818629cd261a547ba"),
         SampleFile("poa_trensurb.zip", f"{_R5R}/poa/poa_trensurb.zip",
                    "1c0162e0b7c76604c79037e9e9879f94325989b3775cec854e93fe9473fd99f1")),
        "2019-05-13", "Porto Alegre: OSM + EPTC buses + Trensurb rail"),
    SampleCity(
        "sao-paulo",
        SampleFile("spo_osm.pbf", f"{_R5R}/spo/spo_osm.pbf",
                   "5cb72c6df5428ca0b90d0646f9e9ebc32b6ac6b189b53f8afc7a239abfe4d2ef"),
        (SampleFile("spo_gtfs.zip", f"{_R5R}/spo/spo.zip",
                    "57d0d5f3359cbd0d42cc7467c51ec9b14e0c9dc1665308246644fbc3bddd9a1f"),),
        "2019-05-13", "São Paulo: OSM + frequency-based GTFS"),
    SampleCity(
        "helsinki", None,
        (SampleFile("hsl_gtfs.zip", f"{_R5PY}/GTFS.zip",
                    "f9ab4f88a5a846107214aa4dfa8c29526b442912596558b399b7bd6569df6028"),),
        "2022-02-22", "Helsinki: HSL GTFS (bus, tram, metro, rail, ferry); no street extract"),
    # Porto Alegre moved to Wuxi's latitude/longitude (lat + 61.52, lon + 171.52; timezone
    # Asia/Shanghai): real streets and timetables where GCJ-02/BD-09 apply. Derived data, no URL.
    SampleCity(
        "poa-in-wuxi",
        SampleFile("wuxi_osm.pbf", None,
                   "882481c1a2ba7acefd9b1126d9cb8d27ffd10b3c84bc2dfd20c46de036245772"),
        (SampleFile("wuxi_bus.zip", None,
                    "feff70d810c85462cc89abd2cc7380f5bd87c3ce87b18afa4585825de20d4ade"),
         SampleFile("wuxi_metro.zip", None,
                    "116986cb793ceaf3b7489757f8dbbc05163e232d274aa1bb9fd70fc571148489")),
        "2019-05-13", "Porto Alegre moved to Wuxi (WGS-84, Asia/Shanghai) for GCJ-02/BD-09 "
                      "tests; derived, not downloadable"),
)}


def sample_city(name: str) -> SampleCity:
    """The sample city called ``name``.

    Raises
    ------
    InputFileError
        If there is no such sample (the message lists the known ones).
    """
    try:
        return SAMPLES[name]
    except KeyError:
        known = ", ".join(sorted(SAMPLES))
        raise InputFileError(f"unknown sample city {name!r} (known: {known})",
                             field="sample") from None


def sample_paths(name: str, sample_dir: str | os.PathLike) -> tuple[Path | None, list[Path]]:
    """(osm path, gtfs paths) of a sample city inside ``sample_dir``, checking they exist.

    Raises
    ------
    InputFileError
        If the city is unknown or a file is missing from ``sample_dir/<name>``.
    """
    city = sample_city(name)
    folder = Path(sample_dir) / city.name
    for f in city.files:
        if not (folder / f.name).is_file():
            raise InputFileError(f"{folder / f.name}: sample file missing "
                                 f"(run `tanlu sample fetch {name}` or set TANLU_SAMPLE_DIR)",
                                 path=str(folder / f.name))
    osm = folder / city.osm.name if city.osm else None
    return osm, [folder / f.name for f in city.gtfs]


def fetch_sample(name: str, dest_dir: str | os.PathLike, *, timeout_s: float = 60.0) -> list[Path]:
    """Download a sample city's files into ``dest_dir/<name>``, verifying each sha256.

    Files already present with the right checksum are kept. A download whose checksum does not
    match is deleted and reported.

    Raises
    ------
    InputFileError
        On a network failure or a checksum mismatch.
    """
    city = sample_city(name)
    folder = Path(dest_dir) / city.name
    folder.mkdir(parents=True, exist_ok=True)
    return [fetch_file(f, folder, timeout_s=timeout_s) for f in city.files]


def fetch_file(sample: SampleFile, folder: Path, *, timeout_s: float = 60.0) -> Path:
    """Download one file into ``folder`` unless it is already there intact."""
    target = folder / sample.name
    if target.is_file() and file_sha256(target) == sample.sha256:
        return target
    if sample.url is None:
        raise InputFileError(f"{target}: {sample.name} is derived from another sample and has "
                             "no public download; copy it from the shared sample data folder "
                             "(its SOURCE.md says how it was made)", path=str(target))
    partial = target.with_name(target.name + ".partial")
    try:
        with urllib.request.urlopen(sample.url, timeout=timeout_s) as response, \
                open(partial, "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise InputFileError(f"{sample.url}: download failed ({err})", path=sample.url) from err
    actual = file_sha256(partial)
    if actual != sample.sha256:
        partial.unlink()
        raise InputFileError(f"{sample.url}: sha256 {actual} does not match the pinned "
                             f"{sample.sha256}", path=sample.url)
    os.replace(partial, target)
    return target
