"""Round trips with real SDMX clients: what pysdmx and sdmx1 write, the service stores exactly.

A message is built in each client's own model from ILO:DSD_ILMS_STOCK(1.0) as the clients read
it from ``dsd/``, written in every data format the client writes, uploaded to
ILO:DF_ILMS_A05(1.0), and the store is read back: every current observation (key, period,
value, observation attributes) and every attribute value above observation level must be
exactly those written, no more, no fewer. A property-based round trip does the same over
random valid keys (codes drawn from the dataflow's constraint and codelists), periods, values
and attributes.

Writers used (pysdmx 1.21, sdmx1 2.28):

- pysdmx: SDMX-CSV 1.0 and 2.0, SDMX-ML 2.1 structure-specific and generic (each also as time
  series), SDMX-ML 3.0 structure-specific. Writing data needs pysdmx's ``data`` extra
  (pandas and pyarrow); these tests skip without pyarrow.
- sdmx1: SDMX-ML 2.1 structure-specific (flat and in series) and SDMX-CSV 2.0 (``to_csv`` with
  ``path=``: without it sdmx1 returns a fixed-width table, not CSV). Not generic SDMX-ML:
  sdmx1 2.28 writes a generic data set under a ``StructureSpecificData`` root. Not a data set
  action either: it writes ``action="ActionType.append"``.
"""

from __future__ import annotations

import functools
import string
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from service.settings import PROJECT_ROOT
from tests.api.upload_helpers import (
    A05_TOTALS,
    CSV10,
    CSV20,
    ML21_GEN,
    ML21_GEN_TS,
    ML21_SS,
    ML21_SS_TS,
    ML30,
    STOCK_DIMENSIONS,
    STORES,
    Env,
    attach_key,
    fresh_settings,
    open_env,
    series_key,
)

STOCK_DSD_FILE = PROJECT_ROOT / "dsd" / "ILO_DSD_ILMS_STOCK_1.0.xml"
FLOW_ID = "DF_ILMS_A05"
OBS_ATTRIBUTES = ("OBS_STATUS", "DECIMALS", "NOTE_CLASSIF", "UPPER_BOUND", "LOWER_BOUND")
TOTALS = A05_TOTALS


# --- what a message says -----------------------------------------------------------------------


@dataclass(frozen=True)
class Obs:
    key: dict[str, str]  # the 11 key dimensions
    period: str
    value: str | None  # as written; None: missing (with an OBS_STATUS saying why)
    attrs: dict[str, str] = field(default_factory=dict)  # observation level


@dataclass(frozen=True)
class Message:
    """Observations, SOURCE per (REF_AREA, period) and UNIT_MEASURE for the one MEASURE."""

    observations: tuple[Obs, ...]
    sources: dict[tuple[str, str], str]
    unit: str

    def rows(self) -> list[dict[str, str]]:
        """One flat record per observation, every component a column ('' when absent)."""
        return [
            {
                **o.key,
                "TIME_PERIOD": o.period,
                "OBS_VALUE": o.value or "",
                **{a: o.attrs.get(a, "") for a in OBS_ATTRIBUTES},
                "SOURCE": self.sources[(o.key["REF_AREA"], o.period)],
                "UNIT_MEASURE": self.unit,
            }
            for o in self.observations
        ]

    def without_missing_values(self) -> Message:
        kept = tuple(o for o in self.observations if o.value is not None)
        places = {(o.key["REF_AREA"], o.period) for o in kept}
        sources = {k: v for k, v in self.sources.items() if k in places}
        return Message(kept, sources, self.unit)

    def without_quotes(self) -> Message:
        def fix(text: str) -> str:
            return text.replace('"', "«").replace("'", "»")

        kept = tuple(
            Obs(o.key, o.period, o.value, {a: fix(v) for a, v in o.attrs.items()})
            for o in self.observations
        )
        return Message(kept, {k: fix(v) for k, v in self.sources.items()}, self.unit)

    def one_source_per_country(self) -> Message:
        first: dict[str, str] = {}
        for (area, _), source in sorted(self.sources.items()):
            first.setdefault(area, source)
        sources = {(area, period): first[area] for area, period in self.sources}
        return Message(self.observations, sources, self.unit)

    def expected_observations(self) -> set[tuple[Any, ...]]:
        return {
            (
                series_key(o.key),
                o.period,
                float(o.value) if o.value else None,
                tuple(sorted(o.attrs.items())),
            )
            for o in self.observations
        }

    def expected_attributes(self) -> set[tuple[str, str, str | None]]:
        found: set[tuple[str, str, str | None]] = set()
        for o in self.observations:
            source = self.sources[(o.key["REF_AREA"], o.period)]
            found.add(("SOURCE", attach_key(o.key, ("REF_AREA", "MEASURE"), o.period), source))
            found.add(("UNIT_MEASURE", attach_key(o.key, ("MEASURE",)), self.unit))
        return found


def key(area: str, sex: str, eco: str, cbr: str = "CBR_BIR_FOREIGN") -> dict[str, str]:
    codes = {**TOTALS, "REF_AREA": area, "SEX": sex, "ECO": eco, "CBR": cbr}
    codes["CCT"] = "CCT_CIT_TOTAL"
    return {d: codes[d] for d in STOCK_DIMENSIONS}


#: A message using every kind of value: decimals, integers, an exponent, a negative number,
#: a missing value explained by its status, text with commas, quotes, markup and non-ASCII.
FIXED = Message(
    observations=(
        Obs(key("THA", "SEX_M", "ECO_ISIC4_A"), "2019", "1234.5", {"OBS_STATUS": "E"}),
        Obs(key("THA", "SEX_M", "ECO_ISIC4_A"), "2020", "1250", {"DECIMALS": "0"}),
        Obs(key("THA", "SEX_F", "ECO_ISIC4_A"), "2019", "0.125"),
        Obs(
            key("THA", "SEX_F", "ECO_ISIC4_A"),
            "2020",
            None,
            {"OBS_STATUS": "N", "NOTE_CLASSIF": 'Not "available", <yet> & later'},
        ),
        Obs(
            key("VNM", "SEX_T", "ECO_ISIC4_TOTAL", "CBR_BIR_TOTAL"),
            "2020",
            "2.5e3",
            {"UPPER_BOUND": "2600", "LOWER_BOUND": "2400"},
        ),
        Obs(key("VNM", "SEX_T", "ECO_ISIC4_C", "CBR_BIR_TOTAL"), "2020", "-7"),
    ),
    sources={
        ("THA", "2019"): 'Labour Force Survey, "LFS" – Thái',
        ("THA", "2020"): "Census 2020; LFS Q4",
        ("VNM", "2020"): "Census <2019> & LFS",
    },
    unit="PS",
)


def check_stored(env: Env, message: Message) -> None:
    """The store holds exactly what ``message`` says."""
    dsd = env.flow().dsd
    stored = {(k, p, v, tuple(sorted(a.items()))) for k, p, v, a in env.current(dsd)}
    assert stored == message.expected_observations()
    assert len(env.current(dsd)) == len(message.observations)
    assert env.attributes(dsd) == message.expected_attributes()


def upload(env: Env, body: str | bytes, media_type: str) -> dict[str, int]:
    """Upload as the admin; 201 expected. The submission's counts."""
    data = body.encode() if isinstance(body, str) else body
    response = env.post(data, content_type=media_type)
    assert response.status_code == 201, response.text
    submission = response.json()["submission"]
    assert submission["status"] == "accepted"
    return dict(submission["counts"])


# --- pysdmx ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pysdmx_io() -> ModuleType:
    pytest.importorskip(
        "pyarrow", reason="pysdmx writes data messages only with its data extra (pyarrow)"
    )
    import pysdmx.io

    return pysdmx.io


@functools.cache
def pysdmx_schema() -> Any:
    """ILO:DF_ILMS_A05(1.0) as a pysdmx Schema, from the DSD pysdmx reads from dsd/."""
    from pysdmx.io import read_sdmx
    from pysdmx.model.dataflow import DataStructureDefinition, Schema

    found = read_sdmx(str(STOCK_DSD_FILE), validate=False).structures or []
    dsd = next(s for s in found if isinstance(s, DataStructureDefinition))
    return Schema(
        context="dataflow",
        agency="ILO",
        id=FLOW_ID,
        version="1.0",
        components=dsd.components,
        groups=dsd.groups,
    )


def pysdmx_can_write(message: Message, fmt_name: str) -> Message:
    """``message`` within what pysdmx 1.21 writes correctly in that format.

    - SDMX-CSV: an empty OBS_VALUE is written as ``#N/A`` (pysdmx reads the DSD's OBS_VALUE,
      which has no representation, as a string), which the service refuses for its numeric
      measure (see ``test_pysdmx_csv_missing_value_marker``): no missing values.
    - SDMX-ML: attribute values are written with ``repr()`` and a blanket ``'`` to ``"``
      replacement, so a quote of either kind in a value makes the XML not well-formed: none.
      And SOURCE (attached to REF_AREA, MEASURE, TIME_PERIOD) goes on the series, where one
      value per series is all pysdmx writes: one per country.
    """
    if "CSV" in fmt_name:
        return message.without_missing_values()
    return message.without_quotes().one_source_per_country()


def write_pysdmx(message: Message, fmt_name: str) -> str:
    import pandas as pd
    from pysdmx.io import write_sdmx
    from pysdmx.io.format import Format
    from pysdmx.io.pd import PandasDataset
    from pysdmx.model.dataset import ActionType

    frame = pd.DataFrame(message.rows(), dtype=str)
    dataset = PandasDataset(structure=pysdmx_schema(), data=frame, action=ActionType.Append)
    fmt = Format[fmt_name]
    extra = {"dimension_at_observation": "TIME_PERIOD"} if "ML" in fmt_name else {}
    written = write_sdmx(dataset, fmt, **extra)
    assert written is not None
    return written


PYSDMX_FORMATS = {
    "csv-1.0": ("DATA_SDMX_CSV_1_0_0", CSV10),
    "csv-2.0": ("DATA_SDMX_CSV_2_0_0", CSV20),
    "ml-2.1-structure-specific": ("DATA_SDMX_ML_2_1_STR", ML21_SS),
    "ml-2.1-structure-specific-ts": ("DATA_SDMX_ML_2_1_STRTS", ML21_SS_TS),
    "ml-2.1-generic": ("DATA_SDMX_ML_2_1_GEN", ML21_GEN),
    "ml-2.1-generic-ts": ("DATA_SDMX_ML_2_1_GENTS", ML21_GEN_TS),
    "ml-3.0": ("DATA_SDMX_ML_3_0", ML30),
}


# --- sdmx1 -------------------------------------------------------------------------------------


@functools.cache
def sdmx1_structures() -> tuple[Any, Any]:
    """(DSD, dataflow) as sdmx1 reads them from dsd/."""
    import sdmx

    read = sdmx.read_sdmx(STOCK_DSD_FILE)
    return read.structure["DSD_ILMS_STOCK"], read.dataflow[FLOW_ID]


def sdmx1_dataset(message: Message, *, in_series: bool) -> Any:
    from sdmx.model import v21 as m

    dsd, dataflow = sdmx1_structures()
    measure = dsd.measures.get("OBS_VALUE")

    def value(attribute: str, text: str) -> Any:
        return m.AttributeValue(value=text, value_for=dsd.attributes.get(attribute))

    dataset = m.StructureSpecificDataSet(described_by=dataflow, structured_by=dsd)
    for row, obs in zip(message.rows(), message.observations, strict=True):
        attached = {a: value(a, row[a]) for a in (*OBS_ATTRIBUTES, "SOURCE") if row[a]}
        kwargs: dict[str, Any] = {
            "attached_attribute": attached,
            "value_for": measure,
            "value": float(obs.value) if obs.value else None,
        }
        if not in_series:
            kwargs["dimension"] = dsd.make_key(m.Key, {**obs.key, "TIME_PERIOD": obs.period})
            attached["UNIT_MEASURE"] = value("UNIT_MEASURE", message.unit)
            dataset.add_obs([m.Observation(**kwargs)])
            continue
        series = dsd.make_key(m.SeriesKey, obs.key)
        series.attrib["UNIT_MEASURE"] = value("UNIT_MEASURE", message.unit)
        known = next((s for s in dataset.series if s == series), series)
        kwargs["dimension"] = dsd.make_key(m.Key, {"TIME_PERIOD": obs.period})
        dataset.add_obs([m.Observation(**kwargs)], series_key=known)
    return dataset


def write_sdmx1_xml(message: Message, *, in_series: bool) -> bytes:
    import sdmx
    from sdmx.message import DataMessage

    dsd, dataflow = sdmx1_structures()
    dataset = sdmx1_dataset(message, in_series=in_series)
    data = DataMessage(
        data=[dataset], dataflow=dataflow, observation_dimension=dsd.dimensions.get("TIME_PERIOD")
    )
    return bytes(sdmx.to_xml(data))


def write_sdmx1_csv(message: Message) -> bytes:
    import sdmx

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        sdmx.to_csv(sdmx1_dataset(message, in_series=False), path=path, attributes="dgso")
        return path.read_bytes()


SDMX1_FORMATS: dict[str, tuple[Callable[[Message], bytes], str]] = {
    "ml-2.1-structure-specific-flat": (
        functools.partial(write_sdmx1_xml, in_series=False),
        ML21_SS,
    ),
    "ml-2.1-structure-specific-series": (
        functools.partial(write_sdmx1_xml, in_series=True),
        ML21_SS,
    ),
    "csv-2.0": (write_sdmx1_csv, CSV20),
}


# --- the round trips ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=STORES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Env]:
    """One store per kind for the module (preparing one takes longer than a round trip)."""
    folder = tmp_path_factory.mktemp("clients")
    with open_env(fresh_settings(str(request.param), folder, "clients")) as opened:
        yield opened


@pytest.fixture
def env(served: Env) -> Env:
    """The module's store, with no data in it."""
    served.wipe_data()
    return served


@pytest.mark.parametrize("fmt", PYSDMX_FORMATS)
def test_pysdmx_round_trip(env: Env, pysdmx_io: ModuleType, fmt: str) -> None:
    name, media_type = PYSDMX_FORMATS[fmt]
    message = pysdmx_can_write(FIXED, name)
    counts = upload(env, write_pysdmx(message, name), media_type)
    assert counts["observations_inserted"] == len(message.observations)
    check_stored(env, message)


@pytest.mark.parametrize("fmt", SDMX1_FORMATS)
def test_sdmx1_round_trip(env: Env, fmt: str) -> None:
    writer, media_type = SDMX1_FORMATS[fmt]
    counts = upload(env, writer(FIXED), media_type)
    assert counts["observations_inserted"] == len(FIXED.observations)
    check_stored(env, FIXED)


def test_a_second_client_message_updates_only_what_it_says(env: Env, pysdmx_io: ModuleType) -> None:
    """pysdmx's Append after sdmx1's Information: values change, nothing else is lost."""
    writer, media_type = SDMX1_FORMATS["ml-2.1-structure-specific-series"]
    upload(env, writer(FIXED), media_type)
    first = FIXED.observations[0]
    changed = Obs(first.key, first.period, "99.5", {"OBS_STATUS": "P"})
    update = Message((changed,), {("THA", "2019"): "Revised LFS"}, FIXED.unit)
    counts = upload(env, write_pysdmx(update, "DATA_SDMX_ML_2_1_STR"), ML21_SS)
    assert (counts["observations_updated"], counts["observations_unchanged"]) == (1, 0)
    expected = Message(
        (changed, *FIXED.observations[1:]),
        {**FIXED.sources, ("THA", "2019"): "Revised LFS"},
        FIXED.unit,
    )
    check_stored(env, expected)


# --- property-based ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Codes:
    """What a valid A05 key may hold: per dimension, the codes the service would accept."""

    per_dimension: dict[str, tuple[str, ...]]
    statuses: tuple[str, ...]
    decimals: tuple[str, ...]
    units: tuple[str, ...]


_CODES: dict[str, Codes] = {}


def allowed_codes(env: Env) -> Codes:
    """The codes of the store ``env`` serves (read once per store)."""
    url = env.settings.database_url
    if url not in _CODES:
        _CODES[url] = _read_codes(env)
    return _CODES[url]


def _read_codes(env: Env) -> Codes:
    flow = env.flow()
    codelists = {k[1]: v for k, v in flow.codelists.items()}
    per_dimension: dict[str, tuple[str, ...]] = {}
    for dim in flow.dsd.key_dimensions:
        allowed: set[str] | None = None
        for constraint in flow.constraints:
            codes = constraint.allowed_codes(dim.id)
            if codes is not None:
                allowed = set(codes) if allowed is None else allowed & set(codes)
        if allowed is None:  # not constrained (REF_AREA): any code of the codelist
            rep = dim.representation
            assert rep is not None
            assert rep.enumeration is not None
            allowed = {item.id for item in codelists[rep.enumeration.id].items}
        per_dimension[dim.id] = tuple(sorted(allowed))

    def codes_of(codelist: str) -> tuple[str, ...]:
        return tuple(sorted(item.id for item in codelists[codelist].items))

    return Codes(
        per_dimension,
        codes_of("CL_OBS_STATUS"),
        codes_of("CL_DECIMALS"),
        codes_of("CL_UNIT_MEASURE"),
    )


#: Free text as a provider might type it: letters, digits, punctuation, some non-ASCII,
#: CSV and XML specials. Not blank, no leading or trailing space, never the SDMX-CSV 2.0
#: deletion mark "-".
TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + " ,;:.'\"<>&()/-–éüçØ漢",
    min_size=1,
    max_size=40,
).filter(lambda s: s == s.strip() and s not in ("", "-"))
NUMBERS = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False).map(str),
)


@st.composite
def messages(draw: st.DrawFn, codes: Codes) -> Message:
    dims = codes.per_dimension
    count = draw(st.integers(min_value=1, max_value=8))
    seen: set[tuple[str, ...]] = set()
    observations: list[Obs] = []
    for _ in range(count):
        chosen = {d: draw(st.sampled_from(dims[d])) for d in STOCK_DIMENSIONS}
        period = str(draw(st.integers(min_value=1950, max_value=2035)))
        identity = (*chosen.values(), period)
        if identity in seen:
            continue
        seen.add(identity)
        attrs: dict[str, str] = {}
        value: str | None = draw(st.one_of(st.none(), NUMBERS))
        if value is None:  # missing: a status must say why
            attrs["OBS_STATUS"] = draw(st.sampled_from(("N", "X")))
        elif draw(st.booleans()):
            attrs["OBS_STATUS"] = draw(st.sampled_from(codes.statuses))
        if draw(st.booleans()):
            attrs["DECIMALS"] = draw(st.sampled_from(codes.decimals))
        if draw(st.booleans()):
            attrs["NOTE_CLASSIF"] = draw(TEXT)
        observations.append(Obs(chosen, period, value, attrs))
    places = {(o.key["REF_AREA"], o.period) for o in observations}
    sources = {place: draw(TEXT) for place in sorted(places)}
    return Message(tuple(observations), sources, draw(st.sampled_from(codes.units)))


def _no_limits(message: Message) -> Message:
    return message


Writer = tuple[Callable[[Message], str | bytes], Callable[[Message], Message], str]
PROPERTY_WRITERS: dict[str, Writer] = {
    "pysdmx-csv-2.0": (
        functools.partial(write_pysdmx, fmt_name="DATA_SDMX_CSV_2_0_0"),
        functools.partial(pysdmx_can_write, fmt_name="DATA_SDMX_CSV_2_0_0"),
        CSV20,
    ),
    "pysdmx-ml-2.1-structure-specific": (
        functools.partial(write_pysdmx, fmt_name="DATA_SDMX_ML_2_1_STR"),
        functools.partial(pysdmx_can_write, fmt_name="DATA_SDMX_ML_2_1_STR"),
        ML21_SS,
    ),
    "sdmx1-ml-2.1-structure-specific": (
        functools.partial(write_sdmx1_xml, in_series=True),
        _no_limits,
        ML21_SS,
    ),
}


@pytest.mark.parametrize("writer", PROPERTY_WRITERS)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_valid_messages_round_trip(
    env: Env, pysdmx_io: ModuleType, writer: str, data: st.DataObject
) -> None:
    write, within_limits, media_type = PROPERTY_WRITERS[writer]
    message = within_limits(data.draw(messages(allowed_codes(env))))
    assume(message.observations)
    env.wipe_data()  # each example starts from an empty store
    counts = upload(env, write(message), media_type)
    assert counts["observations_inserted"] == len(message.observations)
    check_stored(env, message)


# --- missing values ----------------------------------------------------------------------------


def _missing(value: str) -> Message:
    obs = Obs(key("THA", "SEX_T", "ECO_ISIC4_TOTAL"), "2021", value, {"OBS_STATUS": "N"})
    return Message((obs,), {("THA", "2021"): "LFS"}, "PS")


@pytest.mark.parametrize(
    "store",
    [
        "sqlite",
        "postgres",
    ],
)
def test_nan_with_a_status_is_stored_as_a_missing_value(
    store: str, tmp_path: Path, pysdmx_io: ModuleType
) -> None:
    with open_env(fresh_settings(store, tmp_path, "clients_nan")) as env:
        upload(env, write_pysdmx(_missing("NaN"), "DATA_SDMX_CSV_2_0_0"), CSV20)
        [(_, _, value, attrs)] = env.current(env.flow().dsd)
    assert (value, attrs) == (None, {"OBS_STATUS": "N"})


def test_pysdmx_csv_missing_value_marker(env: Env, pysdmx_io: ModuleType) -> None:
    """pysdmx writes an empty OBS_VALUE as SDMX-CSV 2.0's ``#N/A`` (intentionally missing, for
    non-numeric components: pysdmx reads ILMS's OBS_VALUE, which has no representation, as
    a string). The service, for which OBS_VALUE is a number, refuses it and names it. This
    pins the current behaviour; the interoperable fix is a numeric representation in the DSD
    (pysdmx then writes NaN)."""
    written = write_pysdmx(_missing(""), "DATA_SDMX_CSV_2_0_0")
    assert ",#N/A," in written
    response = env.post(written.encode(), content_type=CSV20)
    assert response.status_code == 422
    [problem] = response.json()["submission"]["validation"]["problems"]
    assert (problem["rule"], problem["value"], problem["location"]) == (
        "not_a_number",
        "#N/A",
        "row 2",
    )
    assert env.data_counts() == dict.fromkeys(env.data_counts(), 0)
