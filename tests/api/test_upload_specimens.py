"""Real data messages from the public specimens, uploaded with the structures they come with.

For each data message whose structure is among the specimens, a fresh store gets only that
structure (``load_paths``, as ``ilms structures load`` does), and the message is uploaded as
the admin to its dataflow, or to its data structure (``datastructure`` context) when the
specimens have no dataflow for it.

- ``LOADS``: the upload must be accepted (201) and the store must hold as many current
  observations as the specimen has ``Obs`` elements (counted with plain lxml). Today every
  one of them fails on a service bug: see the xfail reasons.
- ``INCOMPLETE``: the structure the specimens give is not enough to validate data (codelists
  or the data structure itself are missing). The upload is refused with the precise SDMX
  error naming one of the missing artefacts, and the test checks, on the store, that those are
  indeed the artefacts missing and the only ones.
- ``test_every_data_specimen_is_accounted_for``: every other data message of the specimens
  (no structure of its own there) is listed with the reason, so none is skipped silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from service.formats.readers.sdmx_ml_structure import read_structures
from service.model import Dataflow, DataStructure
from service.storage.structures import StructureRepository, ref_key
from service.storage.tables import observation_current
from tests.api.upload_helpers import JSON20, STORES, Env, fresh_settings, open_env, problems
from tests.shared import SHARED, requires_shared

SPECIMENS = SHARED / "specimens"
XML = "application/xml"

pytestmark = requires_shared


@dataclass(frozen=True)
class Specimen:
    data: str
    structures: tuple[str, ...]
    #: ``dataflow/AGENCY/ID/VERSION`` or ``datastructure/AGENCY/ID/VERSION``
    target: str
    media_type: str = XML

    @property
    def url(self) -> str:
        return f"/rest/v2/data/{self.target}"


def raw_observations(path: Path) -> int:
    """``Obs`` elements in an SDMX-ML message, or observations in an SDMX-JSON one."""
    if path.suffix == ".json":
        data = json.loads(path.read_bytes())
        sets = data.get("data", data)["dataSets"]
        return sum(
            len(s.get("observations", {}))
            + sum(len(series.get("observations", {})) for series in s.get("series", {}).values())
            for s in sets
        )
    tree = etree.parse(str(path))
    return sum(
        1 for el in tree.iter() if isinstance(el.tag, str) and etree.QName(el).localname == "Obs"
    )


# --- specimens that should load ----------------------------------------------------------------


LOADS = {
    "IMF_RES-WEO-groups-and-dataset-attributes": pytest.param(
        Specimen(
            "IMF_RES/WEO-data.xml",
            ("IMF_RES/WEO-structure.xml",),
            "dataflow/IMF.RES/WEO/9.0.0",
        ),
    ),
}


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def upload_specimen(store: str, tmp_path: Path, specimen: Specimen) -> Iterator[tuple[Env, Any]]:
    """A fresh store with only the specimen's structures, and the answer to its upload."""
    structures = [SPECIMENS / s for s in specimen.structures]
    settings = fresh_settings(store, tmp_path, "specimens", structures)
    with open_env(settings) as env:
        body = (SPECIMENS / specimen.data).read_bytes()
        response = env.post(body, content_type=specimen.media_type, url=specimen.url)
        yield env, response


@pytest.mark.parametrize("specimen", LOADS.values(), ids=LOADS.keys())
def test_specimen_loads_whole(store: str, tmp_path: Path, specimen: Specimen) -> None:
    with upload_specimen(store, tmp_path, specimen) as (env, response):
        assert response.status_code == 201, response.text
        expected = raw_observations(SPECIMENS / specimen.data)
        assert expected > 0
        assert env.count(observation_current) == expected
        assert response.json()["submission"]["counts"]["observations_inserted"] == expected


# --- specimens whose structure is incomplete ---------------------------------------------------


@dataclass(frozen=True)
class Incomplete:
    specimen: Specimen
    #: what the specimens lack: "AGENCY:ID(VERSION)" of each missing artefact
    missing: frozenset[str]
    why: str


def _codelists(agency: str, *ids: str) -> frozenset[str]:
    return frozenset(f"{agency}:{i}(1.0)" for i in ids)


ECB_CODELISTS = _codelists(
    "ECB",
    "CL_COLLECTION",
    "CL_CURRENCY",
    "CL_DECIMALS",
    "CL_EXR_SUFFIX",
    "CL_EXR_TYPE",
    "CL_FREQ",
    "CL_OBS_CONF",
    "CL_OBS_STATUS",
    "CL_ORGANISATION",
    "CL_UNIT",
    "CL_UNIT_MULT",
)
ECB_DSD_ONLY = ("v3/xml/ECB_EXR1.xml", "v3/xml/dataflow.xml")
ECB_DATAFLOW_WHY = (
    "the official v3 dataflow ECB:EXR(1.0) (v3/xml/dataflow.xml) refers to the data structure "
    "ECB:EXR(1.0), but the specimens' DSD is ECB:ECB_EXR(1.0) (v3/xml/ECB_EXR1.xml) and the "
    "SDMX-JSON samples name ECB:ECB_EXR1(1.0), found only in an SDMX-JSON structure message "
    "(v3/json/structure/constructed-sample.json), which `ilms structures load` does not read"
)

DEMOGRAPHY_WHY = (
    "the structure file gives the SDMX cross-domain codelists its DSD uses only as external "
    "references (stubs, without codes), which are not stored"
)

INCOMPLETE: dict[str, Incomplete] = {
    "ESTAT-demography-xs-stub-codelists": Incomplete(
        Specimen(
            "ESTAT/demography-xs.xml",
            ("ESTAT/demography-structure.xml",),
            "datastructure/ESTAT/DEMOGRAPHY/1.0",
        ),
        _codelists("SDMX", "CL_DECIMALS", "CL_OBS_STATUS", "CL_UNIT_MULT"),
        DEMOGRAPHY_WHY,
    ),
    "v21-demography-xs-stub-codelists": Incomplete(
        Specimen(
            "v21/xml/demography/demography_xs.xml",
            ("v21/xml/demography/demography.xml",),
            "datastructure/ESTAT/DEMOGRAPHY/1.0",
        ),
        _codelists("SDMX", "CL_DECIMALS", "CL_OBS_STATUS", "CL_UNIT_MULT"),
        DEMOGRAPHY_WHY,
    ),
    "INSEE-CNA-2010-CONSO-SI-A17-codelists-missing": Incomplete(
        Specimen(
            "INSEE/CNA-2010-CONSO-SI-A17.xml",
            ("INSEE/CNA-2010-CONSO-SI-A17-structure.xml", "INSEE/IPI-2010-A21-structure.xml"),
            "dataflow/FR1/CNA-2010-CONSO-SI-A17/1.0",
        ),
        _codelists("FR1", "CL_AREA", "CL_OBS_STATUS", "CL_TIME_COLLECT", "CL_UNIT"),
        "the structure file lists 4 of the 9 codelists its DSD uses (CL_FREQ comes from IPI's)",
    ),
    "INSEE-IPI-2010-A21-codelists-missing": Incomplete(
        Specimen(
            "INSEE/IPI-2010-A21.xml",
            ("INSEE/IPI-2010-A21-structure.xml",),
            "dataflow/FR1/IPI-2010-A21/1.0",
        ),
        _codelists("FR1", "CL_AREA", "CL_OBS_STATUS", "CL_TIME_COLLECT", "CL_UNIT"),
        "the structure file lists 3 of the 7 codelists its DSD uses",
    ),
    "ISTAT-22_289-codelists-missing": Incomplete(
        Specimen(
            "ISTAT/22_289.xml",
            ("ISTAT/22_289-structure.xml",),
            # no dataflow IT1:22_289 among the specimens: its data structure
            "datastructure/IT1/DCIS_POPRES1/1.0",
        ),
        _codelists(
            "IT1",
            "CL_BASE_YEAR",
            "CL_DS_NOTE",
            "CL_ETA1",
            "CL_FLAG",
            "CL_FREQ",
            "CL_ITTER107",
            "CL_POPOLA_NOTE",
            "CL_SEXISTAT1",
            "CL_STATCIV2",
            "CL_TIPO_DATO15",
            "CL_UNIT_MEASURE",
            "CL_UNIT_MULT",
        ),
        "the structure file has the DSD and none of its 12 codelists",
    ),
    "v3-ECB_EXR0-to-its-dsd-codelists-missing": Incomplete(
        Specimen("v3/xml/ECB_EXR0.xml", ECB_DSD_ONLY, "datastructure/ECB/ECB_EXR/1.0"),
        ECB_CODELISTS,
        "v3/xml/ECB_EXR1.xml has the DSD and none of its 11 codelists",
    ),
    "v3-ECB_EXR_CA-complex-attributes-codelists-missing": Incomplete(
        Specimen(
            "v3/xml/ECB_EXR_CA.xml",
            ("v3/xml/ECB_EXR_CA_DSD.xml",),
            "datastructure/ECB/ECB_EXR_COMPLEX_ATTRIBUTES/1.0",
        ),
        ECB_CODELISTS,
        "v3/xml/ECB_EXR_CA_DSD.xml has the DSD and none of its 11 codelists",
    ),
    **{
        f"v3-{Path(data).stem}-to-dataflow-ECB-EXR-dsd-missing": Incomplete(
            Specimen(data, ECB_DSD_ONLY, "dataflow/ECB/EXR/1.0", JSON20 if "json" in data else XML),
            frozenset({"ECB:EXR(1.0)"}),
            ECB_DATAFLOW_WHY,
        )
        for data in (
            "v3/xml/ECB_EXR0.xml",
            "v3/xml/ECB_EXR_CA.xml",
            "v3/json/data/exr-flat.json",
            "v3/json/data/exr-time-series.json",
            "v3/json/data/exr-cross-section.json",
            "v3/json/data/exr-action-delete.json",
            "v3/json/data/constructed-sample-full.json",
        )
    },
}

_REFERENCED = re.compile(r"Semantic error: (\S+) is referenced but not in this service")


def missing_from_store(env: Env, specimen: Specimen) -> set[str]:
    """What the target's structures refer to that the store lacks (read from the files)."""
    with env.session() as session:
        stored = {e.key for e in StructureRepository(session).index()}
    artefacts = [a for s in specimen.structures for a in read_structures(SPECIMENS / s).artefacts]
    context, agency, target_id, version = specimen.target.split("/")
    dsds = [a for a in artefacts if isinstance(a, DataStructure)]
    if context == "dataflow":
        [flow] = [
            a
            for a in artefacts
            if isinstance(a, Dataflow)
            and (a.agency, a.id, a.version) == (agency, target_id, version)
        ]
        refs = [flow.structure]
        dsds = [d for d in dsds if d.ref() == flow.structure]
    else:
        refs = []
        dsds = [d for d in dsds if (d.agency, d.id, d.version) == (agency, target_id, version)]
    for dsd in dsds:
        refs += [
            c.representation.enumeration
            for c in dsd.components
            if c.representation is not None and c.representation.enumeration is not None
        ]
    return {f"{r.agency}:{r.id}({r.version})" for r in refs if ref_key(r) not in stored}


@pytest.mark.parametrize("case", INCOMPLETE.values(), ids=INCOMPLETE.keys())
def test_specimen_with_an_incomplete_structure_is_refused(
    store: str, tmp_path: Path, case: Incomplete
) -> None:
    with upload_specimen(store, tmp_path, case.specimen) as (env, response):
        assert missing_from_store(env, case.specimen) == set(case.missing), case.why
        assert response.status_code == 403, response.text
        body = response.json()
        assert body["errors"][0]["code"] == 150
        [problem] = problems(response)
        assert problem["rule"] == "refused"
        named = _REFERENCED.fullmatch(problem["message"])
        assert named is not None, problem["message"]
        assert named[1] in case.missing
        assert env.data_counts() == dict.fromkeys(env.data_counts(), 0)
        assert [s for s, _, _ in env.submissions()] == ["rejected"]


# --- loading the specimens' structures --------------------------------------------------------


def test_two_structure_files_sharing_an_artefact_load_together(store: str, tmp_path: Path) -> None:
    from sqlalchemy.orm import Session

    from service.db import make_engine
    from service.storage.loader import load_paths

    settings = fresh_settings(
        store, tmp_path, "specimens", [SPECIMENS / "v21/xml/common/common.xml"]
    )
    files = ["INSEE/CNA-2010-CONSO-SI-A17-structure.xml", "INSEE/IPI-2010-A21-structure.xml"]
    with Session(make_engine(settings)) as session:
        report = load_paths(session, [SPECIMENS / f for f in files])
        session.commit()
    assert report.files == 2


# --- every data specimen is accounted for ------------------------------------------------------

#: Data messages whose structure is nowhere in the specimens: nothing to load them into.
NO_STRUCTURE = {
    "ESTAT/NAMA_10_GDP-ss.xml": "ESTAT:NAMA_10_GDP: no DSD among the specimens",
    "ESTAT/footer.xml": "a footer-only answer (no data set)",
    "ESTAT/footer2.xml": "a footer-only answer (no data set)",
    "IMF/PCPS.xml": "IMF:PCPS: no DSD among the specimens (1PI/ECOFIN are other DSDs)",
    "INSEE/bug-series-freq-data.xml": "FR1:SERIES_BDM: no DSD among the specimens",
    "WB/gh-78.xml": "WBG_WITS:TARIFF_TRAINS: no DSD among the specimens",
    "constructed/gh-218.xml": "ESTAT:ISOC_CI_ID_H: no DSD among the specimens",
    "OECD/data-PART2-all-all.json": "OECD PART2: no DSD among the specimens",
    "v3/json/data/agri.json": "MA_545:AGRI_DSD: no DSD among the specimens",
    "v3/json/data/generated-sample.json": "generated noise: its structure links are random",
    **{
        f"v3/csv/{p.name}": "the SDMX-CSV examples name ESTAT:NA_MAIN and other made-up "
        "structures (DIM_1, ATTR_1...) that no specimen defines"
        for p in sorted((SPECIMENS / "v3" / "csv").glob("*.csv"))
    },
}

_DATA_ROOTS = {
    "GenericData",
    "GenericTimeSeriesData",
    "StructureSpecificData",
    "StructureSpecificTimeSeriesData",
}


def data_messages() -> set[str]:
    """Every data message among the specimens (XML by root element, JSON data, CSV)."""
    found: set[str] = set()
    for path in SPECIMENS.rglob("*"):
        name = str(path.relative_to(SPECIMENS))
        if path.suffix == ".csv":
            found.add(name)
        elif path.suffix == ".json":
            message = json.loads(path.read_bytes())
            if "dataSets" in message.get("data", message):
                found.add(name)
        elif path.suffix == ".xml":
            for _, el in etree.iterparse(str(path), events=("start",)):
                if etree.QName(el).localname in _DATA_ROOTS:
                    found.add(name)
                break
    return found


def test_every_data_specimen_is_accounted_for() -> None:
    """No data specimen is left out silently: each is uploaded above or listed with why not."""
    uploaded = {p.values[0].data for p in LOADS.values() if isinstance(p.values[0], Specimen)}
    uploaded |= {c.specimen.data for c in INCOMPLETE.values()}
    assert data_messages() == uploaded | set(NO_STRUCTURE)
    assert not uploaded & set(NO_STRUCTURE)
