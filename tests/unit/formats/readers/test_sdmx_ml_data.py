"""The SDMX-ML data reader: every flavour by hand, the real specimens, attacks, constant memory."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from lxml import etree

from service.formats.readers.sdmx_ml_data import (
    DATA_30,
    GENERIC_DATA_21,
    GENERIC_TIME_SERIES_DATA_21,
    MEDIA_TYPES,
    STRUCTURE_SPECIFIC_DATA_21,
    STRUCTURE_SPECIFIC_TIME_SERIES_DATA_21,
    read_rows,
)
from service.formats.readers.sdmx_ml_structure import read_structures
from service.model.base import Ref
from service.model.data import Action, DataReadError, DataRow
from service.model.structures import (
    Attribute,
    AttributeRelationship,
    DataStructure,
    Dimension,
    Group,
    Measure,
)
from tests.shared import SHARED, requires_shared
from tests.xsd import validate_sdmx_ml

SPECIMENS = SHARED / "specimens"
V21 = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1"
V30 = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0"
NS21 = (
    f'xmlns:message="{V21}/message" xmlns:common="{V21}/common" '
    f'xmlns:generic="{V21}/data/generic" xmlns:ss="{V21}/data/structurespecific" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
NS30 = (
    f'xmlns:message="{V30}/message" xmlns:common="{V30}/common" '
    f'xmlns:ss="{V30}/data/structurespecific" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
HEADER_START = (
    "<message:Header><message:ID>M1</message:ID><message:Test>false</message:Test>"
    '<message:Prepared>2026-01-01T00:00:00</message:Prepared><message:Sender id="THA"/>'
)
DF_MIG = Ref(cls="Dataflow", agency="ILO", id="DF_MIG", version="1.0")
DSD_MIG = Ref(cls="DataStructure", agency="ILO", id="DSD_MIG", version="1.0")
PA_MIG = Ref(cls="ProvisionAgreement", agency="ILO", id="PA_THA_MIG", version="1.0")
CONCEPT = Ref(cls="Concept", agency="ILO", id="CS_ILOSTAT", version="1.0", item="X")
INFO, A, R, D, M = (Action.INFORMATION, Action.APPEND, Action.REPLACE, Action.DELETE, Action.MERGE)


def make_dsd(
    dims: Sequence[str],
    attrs: Sequence[str] = (),
    groups: dict[str, tuple[str, ...]] | None = None,
    measures: tuple[str, ...] = ("OBS_VALUE",),
    time: str = "TIME_PERIOD",
) -> DataStructure:
    """A DSD with these dimension ids (``time`` is the time dimension) and attribute ids."""
    return DataStructure(
        agency="ILO",
        id="DSD_MIG",
        dimensions=tuple(
            Dimension(
                id=d,
                position=i,
                concept=CONCEPT,
                kind="time" if d == time else "dimension",
            )
            for i, d in enumerate(dims)
        ),
        attributes=tuple(
            Attribute(
                id=a, concept=CONCEPT, relationship=AttributeRelationship(level="observation")
            )
            for a in attrs
        ),
        measures=tuple(Measure(id=m, concept=CONCEPT) for m in measures),
        groups=tuple(Group(id=g, dimensions=ds) for g, ds in (groups or {}).items()),
    )


MIG = make_dsd(
    ["REF_AREA", "FREQ", "SEX", "TIME_PERIOD"],
    ["SOURCE", "UNIT_MULT", "OBS_STATUS", "NOTE", "TITLE"],
    {"SIBLING": ("REF_AREA",)},
)


def read(xml: str | bytes, dsd: DataStructure = MIG, **kwargs: str) -> list[DataRow]:
    data = xml.encode() if isinstance(xml, str) else xml
    return list(read_rows(io.BytesIO(data), dsd, **kwargs))


def line(xml: str, needle: str, nth: int = 1) -> str:
    """``line N`` of the ``nth`` occurrence of ``needle`` in ``xml``."""
    at = -1
    for _ in range(nth):
        at = xml.index(needle, at + 1)
    return f"line {xml.count(chr(10), 0, at) + 1}"


def row(
    key: dict[str, str],
    time: str | None,
    value: str | None,
    attrs: dict[str, str],
    action: Action,
    location: str,
    structure: Ref | None,
) -> DataRow:
    return DataRow(key, time, value, attrs, action, location, structure)


# -- SDMX-ML 2.1 generic ----------------------------------------------------------------------

GENERIC = f"""<?xml version="1.0" encoding="UTF-8"?>
<message:GenericData {NS21}>
  {HEADER_START}
    <message:Structure structureID="STR1" dimensionAtObservation="TIME_PERIOD">
      <common:StructureUsage><Ref agencyID="ILO" id="DF_MIG" version="1.0"/></common:StructureUsage>
    </message:Structure>
  </message:Header>
  <message:DataSet structureRef="STR1" action="Replace">
    <generic:Attributes>
      <generic:Value id="SOURCE" value="LFS"/>
    </generic:Attributes>
    <generic:Group type="SIBLING">
      <generic:GroupKey>
        <generic:Value id="REF_AREA" value="THA"/>
      </generic:GroupKey>
      <generic:Attributes>
        <generic:Value id="NOTE" value="Group note"/>
      </generic:Attributes>
    </generic:Group>
    <generic:Series>
      <generic:SeriesKey>
        <generic:Value id="REF_AREA" value="THA"/>
        <generic:Value id="FREQ" value="A"/>
        <generic:Value id="SEX" value="SEX_F"/>
      </generic:SeriesKey>
      <generic:Attributes>
        <generic:Value id="UNIT_MULT" value="3"/>
      </generic:Attributes>
      <generic:Obs>
        <generic:ObsDimension value="2020"/>
        <generic:ObsValue value="12.5"/>
        <generic:Attributes>
          <generic:Value id="OBS_STATUS" value="E"/>
        </generic:Attributes>
      </generic:Obs>
      <!-- an observation without a value -->
      <generic:Obs>
        <generic:ObsDimension id="TIME_PERIOD" value="2021"/>
        <generic:Attributes>
          <generic:Value id="OBS_STATUS" value="M"/>
        </generic:Attributes>
      </generic:Obs>
    </generic:Series>
    <generic:Series>
      <generic:SeriesKey>
        <generic:Value id="REF_AREA" value="THA"/>
        <generic:Value id="FREQ" value="A"/>
        <generic:Value id="SEX" value="SEX_M"/>
      </generic:SeriesKey>
    </generic:Series>
  </message:DataSet>
</message:GenericData>
"""

GENERIC_FLAT = f"""<?xml version="1.0" encoding="UTF-8"?>
<message:GenericData {NS21}>
  {HEADER_START}
    <message:Structure structureID="STR1" dimensionAtObservation="AllDimensions">
      <common:Structure><Ref agencyID="ILO" id="DSD_MIG" version="1.0"/></common:Structure>
    </message:Structure>
    <message:DataSetAction>Delete</message:DataSetAction>
  </message:Header>
  <message:DataSet structureRef="STR1">
    <generic:Obs>
      <generic:ObsKey>
        <generic:Value id="REF_AREA" value="THA"/>
        <generic:Value id="FREQ" value="A"/>
        <generic:Value id="SEX" value="SEX_T"/>
        <generic:Value id="TIME_PERIOD" value="2019"/>
      </generic:ObsKey>
      <generic:ObsValue value="7"/>
      <generic:Attributes>
        <generic:Value id="OBS_STATUS" value="A"/>
      </generic:Attributes>
    </generic:Obs>
    <generic:Obs>
      <generic:ObsKey>
        <generic:Value id="REF_AREA" value="MYS"/>
        <generic:Value id="FREQ" value="A"/>
        <generic:Value id="SEX" value="SEX_T"/>
        <generic:Value id="TIME_PERIOD" value="2019"/>
      </generic:ObsKey>
    </generic:Obs>
  </message:DataSet>
</message:GenericData>
"""

GENERIC_TS = f"""<?xml version="1.0" encoding="UTF-8"?>
<message:GenericTimeSeriesData {NS21}>
  {HEADER_START}
    <message:Structure structureID="STR1" dimensionAtObservation="TIME_PERIOD">
      <common:Structure>
        <URN>urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=ILO:DSD_MIG(1.0)</URN>
      </common:Structure>
    </message:Structure>
  </message:Header>
  <message:DataSet structureRef="STR1" action="Append">
    <generic:Series>
      <generic:SeriesKey>
        <generic:Value id="REF_AREA" value="PHL"/>
        <generic:Value id="FREQ" value="A"/>
        <generic:Value id="SEX" value="SEX_T"/>
      </generic:SeriesKey>
      <generic:Obs>
        <generic:ObsDimension value="2022"/>
        <generic:ObsValue value="1.5"/>
      </generic:Obs>
    </generic:Series>
  </message:DataSet>
</message:GenericTimeSeriesData>
"""


class TestGeneric21:
    def test_series_groups_dataset_attributes_and_a_series_without_observations(self) -> None:
        x = GENERIC
        key_f = {"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_F"}
        assert read(x) == [
            row({"REF_AREA": "THA"}, None, None, {"SOURCE": "LFS", "NOTE": "Group note"},
                R, line(x, "<generic:Group"), DF_MIG),
            row(key_f, "2020", "12.5", {"SOURCE": "LFS", "UNIT_MULT": "3", "OBS_STATUS": "E"},
                R, line(x, "<generic:Obs>"), DF_MIG),
            row(key_f, "2021", None, {"SOURCE": "LFS", "UNIT_MULT": "3", "OBS_STATUS": "M"},
                R, line(x, "<generic:Obs>", 2), DF_MIG),
            row({"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_M"}, None, None, {"SOURCE": "LFS"},
                R, line(x, "<generic:Series>", 2), DF_MIG),
        ]  # fmt: skip

    def test_flat_observations_with_the_header_action(self) -> None:
        x = GENERIC_FLAT
        assert read(x) == [
            row({"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_T"}, "2019", "7",
                {"OBS_STATUS": "A"}, D, line(x, "<generic:Obs>"), DSD_MIG),
            row({"REF_AREA": "MYS", "FREQ": "A", "SEX": "SEX_T"}, "2019", None, {},
                D, line(x, "<generic:Obs>", 2), DSD_MIG),
        ]  # fmt: skip

    def test_generic_time_series_with_a_urn_reference(self) -> None:
        x = GENERIC_TS
        assert read(x) == [
            row({"REF_AREA": "PHL", "FREQ": "A", "SEX": "SEX_T"}, "2022", "1.5", {},
                A, line(x, "<generic:Obs>"), DSD_MIG),
        ]  # fmt: skip

    @pytest.mark.parametrize("xml", [GENERIC, GENERIC_FLAT, GENERIC_TS])
    def test_the_hand_written_generic_messages_are_schema_valid(self, xml: str) -> None:
        validate_sdmx_ml(xml.encode(), "2.1")

    def test_a_cross_sectional_generic_message(self) -> None:
        x = GENERIC.replace('dimensionAtObservation="TIME_PERIOD"', 'dimensionAtObservation="SEX"')
        x = x.replace('<generic:Value id="SEX" value="SEX_F"/>', "").replace(
            '<generic:Value id="FREQ" value="A"/>',
            '<generic:Value id="FREQ" value="A"/><generic:Value id="TIME_PERIOD" value="2020"/>',
            1,
        )
        x = x.replace(
            '<generic:ObsDimension value="2020"/>', '<generic:ObsDimension value="SEX_F"/>'
        )
        x = x.replace('id="TIME_PERIOD" value="2021"', 'id="SEX" value="SEX_M"')
        rows = read(x)
        assert [(r.key, r.time) for r in rows[1:3]] == [
            ({"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_F"}, "2020"),
            ({"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_M"}, "2020"),
        ]

    def test_a_value_without_id_is_an_error_with_its_line(self) -> None:
        x = GENERIC.replace(
            '<generic:Value id="UNIT_MULT" value="3"/>', '<generic:Value value="3"/>'
        )
        with pytest.raises(DataReadError, match="Value without id") as caught:
            read(x)
        assert caught.value.location == line(x, '<generic:Value value="3"/>')


# -- SDMX-ML 2.1 structure-specific -----------------------------------------------------------

SS = f"""<?xml version="1.0" encoding="UTF-8"?>
<message:StructureSpecificData {NS21} xmlns:ns1="urn:sdmx:ILO:DF_MIG">
  {HEADER_START}
    <message:Structure structureID="STR1" namespace="urn:x" dimensionAtObservation="TIME_PERIOD">
      <common:StructureUsage><Ref agencyID="ILO" id="DF_MIG" version="1.0"/></common:StructureUsage>
    </message:Structure>
  </message:Header>
  <message:DataSet ss:structureRef="STR1" ss:dataScope="DataStructure" xsi:type="ns1:DataSetType"
      ss:action="Delete" SOURCE="LFS">
    <Series REF_AREA="THA" FREQ="A" SEX="SEX_F" UNIT_MULT="3">
      <Obs TIME_PERIOD="2020" OBS_VALUE="12.5" OBS_STATUS="E" xsi:type="ns1:ObsType"/>
      <Obs TIME_PERIOD="2021" OBS_STATUS="M"/>
    </Series>
    <Series REF_AREA="THA" FREQ="A" SEX="SEX_M"/>
    <Group xsi:type="ns1:SIBLING" REF_AREA="THA" NOTE="Group after its series"/>
  </message:DataSet>
</message:StructureSpecificData>
"""

SS_CROSS_SECTION = f"""<?xml version="1.0" encoding="UTF-8"?>
<message:StructureSpecificData {NS21}>
  {HEADER_START}
    <message:Structure structureID="STR1" namespace="urn:x" dimensionAtObservation="SEX">
      <common:StructureUsage><Ref agencyID="ILO" id="DF_MIG" version="1.0"/></common:StructureUsage>
    </message:Structure>
  </message:Header>
  <message:DataSet ss:structureRef="STR1" ss:dataScope="DataStructure">
    <Series REF_AREA="THA" FREQ="A" TIME_PERIOD="2020">
      <Obs SEX="SEX_F" OBS_VALUE="1"/>
      <Obs SEX="SEX_M" OBS_VALUE="2"/>
    </Series>
  </message:DataSet>
</message:StructureSpecificData>
"""

SS_FLAT = f"""<?xml version="1.0" encoding="UTF-8"?>
<message:StructureSpecificData {NS21}>
  {HEADER_START}
    <message:Structure structureID="STR1" namespace="urn:x" dimensionAtObservation="AllDimensions">
      <common:ProvisionAgrement>
        <Ref agencyID="ILO" id="PA_THA_MIG" version="1.0"/>
      </common:ProvisionAgrement>
    </message:Structure>
  </message:Header>
  <message:DataSet ss:structureRef="STR1" ss:dataScope="DataStructure" action="Append">
    <Obs REF_AREA="THA" FREQ="A" SEX="SEX_T" TIME_PERIOD="2020" OBS_VALUE="3" OBS_STATUS="A"/>
    <Obs REF_AREA="THA" FREQ="A" SEX="SEX_T" TIME_PERIOD="2021" OBS_VALUE="4"/>
  </message:DataSet>
</message:StructureSpecificData>
"""

SS_TS = f"""<?xml version="1.0" encoding="UTF-8"?>
<message:StructureSpecificTimeSeriesData {NS21}>
  {HEADER_START}
    <message:Structure structureID="STR1" namespace="urn:x" dimensionAtObservation="TIME_PERIOD">
      <common:Structure><Ref agencyID="ILO" id="DSD_MIG" version="1.0"/></common:Structure>
    </message:Structure>
    <message:DataSetAction>Information</message:DataSetAction>
  </message:Header>
  <message:DataSet ss:structureRef="STR1" ss:dataScope="DataStructure">
    <Series REF_AREA="VNM" FREQ="A" SEX="SEX_T">
      <Obs TIME_PERIOD="2018" OBS_VALUE="10"/>
    </Series>
  </message:DataSet>
</message:StructureSpecificTimeSeriesData>
"""


class TestStructureSpecific21:
    def test_time_series_with_a_group_after_its_series_and_dataset_attributes(self) -> None:
        x = SS
        key_f = {"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_F"}
        assert read(x) == [
            row(key_f, "2020", "12.5", {"SOURCE": "LFS", "UNIT_MULT": "3", "OBS_STATUS": "E"},
                D, line(x, "<Obs "), DF_MIG),
            row(key_f, "2021", None, {"SOURCE": "LFS", "UNIT_MULT": "3", "OBS_STATUS": "M"},
                D, line(x, "<Obs ", 2), DF_MIG),
            row({"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_M"}, None, None, {"SOURCE": "LFS"},
                D, line(x, 'SEX="SEX_M"'), DF_MIG),
            row({"REF_AREA": "THA"}, None, None,
                {"SOURCE": "LFS", "NOTE": "Group after its series"},
                D, line(x, "<Group"), DF_MIG),
        ]  # fmt: skip

    def test_cross_sectional_time_on_the_series_and_the_dimension_on_the_observation(
        self,
    ) -> None:
        x = SS_CROSS_SECTION
        assert read(x) == [
            row({"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_F"}, "2020", "1", {},
                INFO, line(x, "<Obs "), DF_MIG),
            row({"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_M"}, "2020", "2", {},
                INFO, line(x, "<Obs ", 2), DF_MIG),
        ]  # fmt: skip

    def test_cross_sectional_time_on_an_earlier_group(self) -> None:
        x = SS_CROSS_SECTION.replace(
            '<Series REF_AREA="THA" FREQ="A" TIME_PERIOD="2020">',
            '<Group type="SIBLING" REF_AREA="THA" TIME_PERIOD="2019"/>\n'
            '    <Series REF_AREA="THA" FREQ="A">',
        )
        assert [(r.key, r.time) for r in read(x)] == [
            ({"REF_AREA": "THA"}, "2019"),
            ({"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_F"}, "2019"),
            ({"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_M"}, "2019"),
        ]

    def test_explicit_measures_name_the_observation_dimension_by_xsi_type(self) -> None:
        x = SS_CROSS_SECTION.replace('SEX="SEX_F"', 'xsi:type="ns9:SEX_F" xmlns:ns9="urn:x"')
        assert read(x)[0].key == {"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_F"}

    def test_all_dimensions_flat_observations_against_a_provision_agreement(self) -> None:
        x = SS_FLAT
        key = {"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_T"}
        assert read(x) == [
            row(key, "2020", "3", {"OBS_STATUS": "A"}, A, line(x, "<Obs "), PA_MIG),
            row(key, "2021", "4", {}, A, line(x, "<Obs ", 2), PA_MIG),
        ]

    def test_structure_specific_time_series(self) -> None:
        x = SS_TS
        assert read(x) == [
            row({"REF_AREA": "VNM", "FREQ": "A", "SEX": "SEX_T"}, "2018", "10", {},
                INFO, line(x, "<Obs "), DSD_MIG),
        ]  # fmt: skip

    def test_an_unqualified_action_as_real_messages_send_it(self) -> None:
        x = SS.replace('ss:action="Delete"', 'action="Replace"')
        assert {r.action for r in read(x)} == {R}

    def test_namespaced_xml_attributes_are_not_components(self) -> None:
        x = SS.replace('OBS_STATUS="M"', 'OBS_STATUS="M" xsi:schemaLocation="urn:x y.xsd"')
        assert read(x)[1].attrs == {"SOURCE": "LFS", "UNIT_MULT": "3", "OBS_STATUS": "M"}

    def test_unknown_xml_attributes_are_passed_on_for_the_validator(self) -> None:
        x = SS.replace('OBS_STATUS="M"', 'OBS_STATUS="M" NOT_IN_DSD="x"')
        assert read(x)[1].attrs["NOT_IN_DSD"] == "x"


# -- SDMX-ML 3.0 ------------------------------------------------------------------------------

SS30 = f"""<?xml version="1.0" encoding="UTF-8"?>
<message:StructureSpecificData {NS30}>
  <message:Header>
    <message:ID>M3</message:ID>
    <message:Test>false</message:Test>
    <message:Prepared>2026-01-01T00:00:00Z</message:Prepared>
    <message:Sender id="THA"/>
    <message:Structure structureID="DF" namespace="urn:x" dimensionAtObservation="TIME_PERIOD">
      <common:StructureUsage>urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=ILO:DF_MIG(1.0)</common:StructureUsage>
    </message:Structure>
    <message:Structure structureID="PA" namespace="urn:x" dimensionAtObservation="TIME_PERIOD">
      <common:ProvisionAgreement>urn:sdmx:org.sdmx.infomodel.registry.ProvisionAgreement=ILO:PA_THA_MIG(1.0)</common:ProvisionAgreement>
    </message:Structure>
  </message:Header>
  <message:DataSet ss:structureRef="DF" ss:action="Merge" SOURCE="LFS">
    <Series REF_AREA="THA" FREQ="A" SEX="SEX_F">
      <Comp id="TITLE">
        <Value>
          <common:Text xml:lang="en">Migrants</common:Text>
          <common:Text xml:lang="fr">Migrants</common:Text>
        </Value>
      </Comp>
      <Obs TIME_PERIOD="2020" OBS_VALUE="12.5">
        <Comp id="OBS_STATUS"><Value>E</Value><Value>P</Value></Comp>
      </Obs>
      <Obs TIME_PERIOD="2021" OBS_VALUE="13">
        <Comp id="OBS_STATUS"><Value>A</Value></Comp>
      </Obs>
    </Series>
    <Group type="SIBLING" REF_AREA="THA" NOTE="A group"/>
    <Atts REF_AREA="THA" FREQ="A"><Comp id="NOTE"><Value>Attribute set</Value></Comp></Atts>
  </message:DataSet>
  <message:DataSet ss:structureRef="PA" ss:action="Delete">
    <Series REF_AREA="THA" FREQ="A" SEX="SEX_M"/>
  </message:DataSet>
  <message:DataSet ss:structureRef="PA" ss:action="Delete"/>
</message:StructureSpecificData>
"""


class TestStructureSpecific30:
    def test_complex_values_groups_atts_and_three_data_sets_with_their_actions(self) -> None:
        x = SS30
        key_f = {"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_F"}
        title = '[{"en":"Migrants","fr":"Migrants"}]'
        assert read(x) == [
            row(key_f, "2020", "12.5", {"SOURCE": "LFS", "TITLE": title, "OBS_STATUS": '["E","P"]'},
                M, line(x, "<Obs "), DF_MIG),
            row(key_f, "2021", "13", {"SOURCE": "LFS", "TITLE": title, "OBS_STATUS": "A"},
                M, line(x, "<Obs ", 2), DF_MIG),
            row({"REF_AREA": "THA"}, None, None, {"SOURCE": "LFS", "NOTE": "A group"},
                M, line(x, "<Group"), DF_MIG),
            row({"REF_AREA": "THA", "FREQ": "A"}, None, None,
                {"SOURCE": "LFS", "NOTE": "Attribute set"}, M, line(x, "<Atts"), DF_MIG),
            row({"REF_AREA": "THA", "FREQ": "A", "SEX": "SEX_M"}, None, None, {},
                D, line(x, 'SEX="SEX_M"'), PA_MIG),
            row({}, None, None, {}, D, line(x, "<message:DataSet", 3), PA_MIG),
        ]  # fmt: skip

    def test_an_empty_information_data_set_gives_no_row(self) -> None:
        x = SS30.replace('<message:DataSet ss:structureRef="PA" ss:action="Delete"/>', "")
        x = x.replace('ss:action="Delete"', 'ss:action="Information"')
        assert len(read(x)) == 5


class TestDataSets:
    def test_multiple_data_sets_with_their_own_structures_and_actions(self) -> None:
        header = (
            '<message:Structure structureID="A" dimensionAtObservation="TIME_PERIOD">'
            '<common:StructureUsage><Ref agencyID="ILO" id="DF_MIG" version="1.0"/>'
            "</common:StructureUsage></message:Structure>"
            '<message:Structure structureID="B" dimensionAtObservation="TIME_PERIOD">'
            '<common:Structure><Ref agencyID="ILO" id="DSD_MIG" class="DataStructure"/>'
            "</common:Structure></message:Structure>"
        )
        series = '<Series REF_AREA="THA" FREQ="A" SEX="SEX_T"><Obs TIME_PERIOD="2020"/></Series>'
        x = (
            f"<message:StructureSpecificData {NS21}>{HEADER_START}{header}</message:Header>\n"
            f'<message:DataSet ss:structureRef="B" ss:action="Append">{series}</message:DataSet>\n'
            f'<message:DataSet ss:structureRef="A" ss:action="Replace">{series}</message:DataSet>\n'
            f'<message:DataSet ss:structureRef="B">{series}</message:DataSet>\n'
            f'<message:DataSet ss:structureRef="A" ss:action="Delete" SOURCE="LFS"/>\n'
            "</message:StructureSpecificData>"
        )
        assert [(r.action, r.structure, r.location, r.attrs) for r in read(x)] == [
            (A, DSD_MIG, "line 2", {}),
            (R, DF_MIG, "line 3", {}),
            (INFO, DSD_MIG, "line 4", {}),
            (D, DF_MIG, "line 5", {"SOURCE": "LFS"}),
        ]

    def test_a_structure_ref_naming_none_of_several_header_structures(self) -> None:
        x = SS30.replace('ss:structureRef="PA" ss:action="Delete">', 'ss:structureRef="NO">')
        with pytest.raises(DataReadError, match="structureRef 'NO' names none") as caught:
            read(x)
        assert caught.value.location == line(x, 'ss:structureRef="NO"')

    def test_one_header_structure_serves_a_data_set_whose_ref_does_not_match(self) -> None:
        x = SS.replace('ss:structureRef="STR1"', 'ss:structureRef="OTHER"')
        assert {r.structure for r in read(x)} == {DF_MIG}

    def test_without_a_header_structure_rows_have_no_structure(self) -> None:
        x = (
            f"<message:StructureSpecificData {NS21}><message:DataSet>"
            '<Obs TIME_PERIOD="1" OBS_VALUE="2"/></message:DataSet></message:StructureSpecificData>'
        )
        assert read(x) == [row({}, "1", "2", {}, INFO, "line 1", None)]

    def test_an_unknown_action_is_an_error_with_its_line(self) -> None:
        x = SS.replace('ss:action="Delete"', 'ss:action="Upsert"')
        with pytest.raises(DataReadError, match="unknown action 'Upsert'") as caught:
            read(x)
        assert caught.value.location == line(x, 'ss:action="Upsert"')  # the start tag's last line


class TestMessages:
    @pytest.mark.parametrize(
        ("xml", "media_type"),
        [
            (GENERIC, GENERIC_DATA_21),
            (GENERIC_TS, GENERIC_TIME_SERIES_DATA_21),
            (SS, STRUCTURE_SPECIFIC_DATA_21),
            (SS_TS, STRUCTURE_SPECIFIC_TIME_SERIES_DATA_21),
            (SS30, DATA_30),
            (SS30, "application/vnd.sdmx.data+xml; version=3.0; charset=utf-8"),
            (SS, "application/vnd.sdmx.structurespecificdata+xml"),
            (SS30, "application/xml"),
            (GENERIC, "text/xml"),
        ],
    )
    def test_the_media_type_matches_the_root(self, xml: str, media_type: str) -> None:
        assert read(xml, media_type=media_type)

    def test_a_media_type_for_another_flavour_is_refused(self) -> None:
        with pytest.raises(DataReadError, match="not what its media type says"):
            read(SS, media_type=GENERIC_DATA_21)
        with pytest.raises(DataReadError, match="not what its media type says"):
            read(SS, media_type=STRUCTURE_SPECIFIC_TIME_SERIES_DATA_21)
        with pytest.raises(DataReadError, match="not what its media type says"):
            read(SS, media_type="application/vnd.sdmx.data+xml")  # any version: only 3.0

    def test_an_unknown_media_type_is_refused(self) -> None:
        with pytest.raises(DataReadError, match="not an SDMX-ML data media type"):
            read(SS, media_type="application/vnd.sdmx.data+csv;version=2.0.0")

    def test_the_accepted_media_types(self) -> None:
        assert MEDIA_TYPES == (
            "application/vnd.sdmx.genericdata+xml;version=2.1",
            "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
            "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1",
            "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1",
            "application/vnd.sdmx.data+xml;version=3.0.0",
            "application/xml",
            "text/xml",
        )

    @pytest.mark.parametrize(
        ("xml", "problem"),
        [
            (f'<message:Structure xmlns:message="{V21}/message"/>', "SDMX-ML Structure message"),
            (f'<message:Error xmlns:message="{V30}/message"/>', "SDMX-ML Error message"),
            ("<html><body/></html>", "root element is 'html'"),
            (f'<message:GenericData xmlns:message="{V30}/message"/>', "GenericData message"),
        ],
    )
    def test_other_documents_are_refused(self, xml: str, problem: str) -> None:
        with pytest.raises(DataReadError, match=f"{problem}.*not an SDMX-ML data message"):
            read(xml)

    def test_a_truncated_message_says_where_it_broke(self) -> None:
        cut = SS[: SS.index("<Obs TIME_PERIOD") + 30]
        with pytest.raises(DataReadError, match="truncated") as caught:
            read(cut)
        assert caught.value.location == line(SS, "<Obs TIME_PERIOD")

    def test_rows_before_a_syntax_error_are_delivered(self) -> None:
        x = SS.replace("</Series>\n    <Series", "</Series>\n    <Broken></Series>", 1)
        rows: list[DataRow] = []
        with pytest.raises(DataReadError, match="not well-formed") as caught:
            rows.extend(read_rows(io.BytesIO(x.encode()), MIG))
        assert caught.value.location == line(x, "<Broken>")

    def test_an_observation_outside_a_series_or_data_set(self) -> None:
        x = SS.replace('NOTE="Group after its series"/>', 'NOTE="x"><Obs TIME_PERIOD="1"/></Group>')
        with pytest.raises(DataReadError, match="Obs element outside a DataSet"):
            read(x)

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            ('<Obs TIME_PERIOD="2021"', '<ss:Obs TIME_PERIOD="2021"'),
            ('<Series REF_AREA="THA" FREQ="A" SEX="SEX_M"/>', '<ss:Series REF_AREA="THA"/>'),
            ('<Group xsi:type="ns1:SIBLING"', "<message:Group"),
        ],
        ids=["qualified Obs", "qualified Series", "qualified Group"],
    )
    def test_a_data_element_in_an_unexpected_namespace_is_refused_not_skipped(
        self, old: str, new: str
    ) -> None:
        x = SS.replace(old, new)
        with pytest.raises(DataReadError, match="unexpected .* element in an SDMX-ML") as caught:
            read(x)
        assert caught.value.location == line(x, new)

    def test_annotations_and_other_extensions_are_skipped(self) -> None:
        note = (
            "<common:Annotations><common:Annotation><common:AnnotationTitle>t"
            "</common:AnnotationTitle></common:Annotation></common:Annotations>"
        )
        x = SS.replace('UNIT_MULT="3">', f'UNIT_MULT="3">{note}').replace(
            'SOURCE="LFS">', f'SOURCE="LFS"><DataProvider/>{note}'
        )
        assert read(x) == read(SS)

    def test_a_utf16_message(self) -> None:
        data = SS.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
        assert read(data) == read(SS)

    def test_a_dsd_with_another_time_and_measure_id(self) -> None:
        dsd = make_dsd(["REF_AREA", "FREQ", "SEX", "PERIOD"], measures=("VALUE",), time="PERIOD")
        x = SS_TS.replace("TIME_PERIOD=", "PERIOD=").replace("OBS_VALUE=", "VALUE=")
        [only] = read(x, dsd)
        assert (only.key, only.time, only.value) == (
            {"REF_AREA": "VNM", "FREQ": "A", "SEX": "SEX_T"},
            "2018",
            "10",
        )


class TestAttacks:
    ATTACKS = {
        "XXE": '<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        "billion laughs": '<!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>',
        "external DTD": '<!DOCTYPE m SYSTEM "http://127.0.0.1:9/evil.dtd">',
    }

    @pytest.mark.parametrize("doctype", ATTACKS.values(), ids=ATTACKS.keys())
    def test_messages_with_a_dtd_are_refused(self, doctype: str) -> None:
        x = SS.replace("?>\n", f"?>\n{doctype}\n", 1).replace('SOURCE="LFS"', 'SOURCE="&x;"')
        with pytest.raises(DataReadError, match="DOCTYPE declaration: refused"):
            read(x)

    def test_a_deeply_nested_message_is_refused(self) -> None:
        deep = "<a>" * 60 + "</a>" * 60
        x = SS.replace(
            '<Obs TIME_PERIOD="2021"',
            f'<Obs TIME_PERIOD="2021">{deep}</Obs><Obs TIME_PERIOD="2021"',
        )
        with pytest.raises(DataReadError, match="nested deeper than 50 levels"):
            read(x)


class TestLinesPastLibxml2sLimit:
    """libxml2 keeps an element's line in 16 bits; past line 65,534 the reader counts lines."""

    def test_every_observation_has_its_own_line_across_the_limit(self) -> None:
        n = 70_000
        x = (
            f"<message:StructureSpecificData {NS21}>{HEADER_START}</message:Header>\n"
            '<message:DataSet>\n<Series REF_AREA="THA" FREQ="M" SEX="SEX_T">\n'
            + "".join(f'<Obs TIME_PERIOD="{t}" OBS_VALUE="{t}"/>\n' for t in range(n))
            + '</Series>\n<Series REF_AREA="MYS" FREQ="M" SEX="SEX_T"/>\n'
            "</message:DataSet></message:StructureSpecificData>\n"
        )
        rows = read(x)
        assert [r.location for r in rows] == [f"line {4 + i}" for i in range(n)] + [f"line {5 + n}"]

    def test_past_the_limit_an_element_spanning_lines_is_located_by_its_end_tag(self) -> None:
        g = "generic:"
        obs = "".join(
            f'<{g}Obs>\n<{g}ObsDimension value="{t}"/>\n<{g}ObsValue value="x"/>\n</{g}Obs>\n'
            for t in range(20_000)
        )
        x = (
            f"<message:GenericData {NS21}>{HEADER_START}</message:Header>\n<message:DataSet>\n"
            f'<{g}Series><{g}SeriesKey><{g}Value id="SEX" value="SEX_T"/></{g}SeriesKey>\n'
            f"{obs}</{g}Series></message:DataSet></message:GenericData>"
        )
        rows = read(x)
        assert rows[10_000].location == f"line {4 + 4 * 10_000}"  # its start tag
        assert rows[19_999].location == f"line {4 + 4 * 19_999 + 3}"  # its end tag
        broken = x[: x.rindex('<generic:ObsDimension value="19999"/>')] + (
            "<generic:ObsDimension/>\n</generic:Obs>\n</generic:Series></message:DataSet>"
            "</message:GenericData>"
        )
        with pytest.raises(DataReadError, match="ObsDimension without value") as caught:
            read(broken)
        assert caught.value.location == f"line {4 + 4 * 19_999 + 2}"


# -- the real specimens -----------------------------------------------------------------------


def _dsd_of(structure_file: str) -> DataStructure:
    dsds = [
        a
        for a in read_structures(SPECIMENS / structure_file).artefacts
        if isinstance(a, DataStructure)
    ]
    assert len(dsds) == 1
    return dsds[0]


#: specimen -> its structure file, or the dimension ids it uses (TIME_PERIOD last)
SPECIMEN_DSDS: dict[str, str | list[str]] = {
    "ESTAT/demography-xs.xml": "ESTAT/demography-structure.xml",
    "v21/xml/demography/demography_xs.xml": "v21/xml/demography/demography.xml",
    "ISTAT/22_289.xml": "ISTAT/22_289-structure.xml",
    "IMF_RES/WEO-data.xml": "IMF_RES/WEO-structure.xml",
    "INSEE/CNA-2010-CONSO-SI-A17.xml": "INSEE/CNA-2010-CONSO-SI-A17-structure.xml",
    "INSEE/IPI-2010-A21.xml": "INSEE/IPI-2010-A21-structure.xml",
    "v3/xml/ECB_EXR0.xml": "v3/xml/ECB_EXR1.xml",
    "v3/xml/ECB_EXR_CA.xml": "v3/xml/ECB_EXR_CA_DSD.xml",
    "ESTAT/NAMA_10_GDP-ss.xml": ["geo", "na_item", "unit", "freq", "TIME_PERIOD"],
    "IMF/PCPS.xml": ["FREQ", "REF_AREA", "COMMODITY", "UNIT_MEASURE", "TIME_PERIOD"],
    "WB/gh-78.xml": ["FREQ", "DATATYPE", "PRODUCTCODE", "PARTNER", "REPORTER", "TIME_PERIOD"],
    "constructed/gh-218.xml": ["TIME_PERIOD"],
    "INSEE/bug-series-freq-data.xml": ["IDBANK", "TIME_PERIOD"],
    "ESTAT/footer.xml": ["TIME_PERIOD"],
    "ESTAT/footer2.xml": ["TIME_PERIOD"],
}


def _raw_counts(path: Path) -> tuple[int, int, int]:
    """(Obs, Group + Atts, Series without Obs) elements, counted with plain lxml."""
    tree = etree.parse(str(path))
    local = [(el, etree.QName(el).localname) for el in tree.iter() if isinstance(el.tag, str)]
    obs = sum(1 for _, name in local if name == "Obs")
    groups = sum(1 for _, name in local if name in ("Group", "Atts"))
    empty = sum(
        1
        for el, name in local
        if name == "Series" and not any(etree.QName(c).localname == "Obs" for c in el)
    )
    return obs, groups, empty


@requires_shared
@pytest.mark.parametrize("specimen", SPECIMEN_DSDS)
def test_every_data_specimen_is_read_whole(specimen: str) -> None:
    source = SPECIMEN_DSDS[specimen]
    dsd = _dsd_of(source) if isinstance(source, str) else make_dsd(source)
    with (SPECIMENS / specimen).open("rb") as stream:
        rows = list(read_rows(stream, dsd, media_type="application/xml"))
    obs, groups, empty = _raw_counts(SPECIMENS / specimen)
    assert sum(1 for r in rows if r.time is not None) == obs
    assert len(rows) == obs + groups + empty
    key_ids = {d.id for d in dsd.key_dimensions}
    assert all(set(r.key) <= key_ids for r in rows)
    assert all(r.location.startswith("line ") for r in rows)
    if isinstance(source, str):  # the reader puts nothing outside the DSD's components
        ids = {c.id for c in dsd.components}
        assert all(set(r.attrs) <= ids for r in rows)


@requires_shared
def test_specimen_values() -> None:
    demography = _dsd_of("ESTAT/demography-structure.xml")
    with (SPECIMENS / "ESTAT/demography-xs.xml").open("rb") as stream:
        first = next(read_rows(stream, demography))
    assert first == row(
        {"FREQ": "A", "SEX": "T", "COUNTRY": "BE", "DEMO": "TFRNSI"}, "2007", "1.82",
        {"OBS_STATUS": "A", "UNIT_MEASURE": "CPW", "UNIT_MULT": "0"}, INFO, "line 16",
        Ref(cls="DataStructure", agency="ESTAT", id="DEMOGRAPHY", version="1.0"),
    )  # fmt: skip
    with (SPECIMENS / "v3/xml/ECB_EXR0.xml").open("rb") as stream:
        rows = list(read_rows(stream, _dsd_of("v3/xml/ECB_EXR1.xml"), media_type=DATA_30))
    assert rows[0].structure == Ref(cls="Dataflow", agency="ECB", id="EXR", version="1.0")
    assert (rows[0].time, rows[0].value, rows[0].attrs["OBS_STATUS"]) == (
        "1999",
        "1.583993822393823",
        "A",
    )
    weo = _dsd_of("IMF_RES/WEO-structure.xml")
    with (SPECIMENS / "IMF_RES/WEO-data.xml").open("rb") as stream:
        groups = [r for r in read_rows(stream, weo) if r.time is None]
    assert [r.key for r in groups] == [
        {"INDICATOR": "NGDP_R"},
        {"INDICATOR": "NGDP_R", "COUNTRY": "SVK"},
    ]
    assert {r.action for r in groups} == {R}


# -- constant memory --------------------------------------------------------------------------


class GeneratedStream(io.RawIOBase):
    """A message that exists only as it is read: a generator of byte chunks behind a stream."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._pending = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def generated_message(long_series: int, short_series: int, per_short: int) -> Iterator[bytes]:
    """One data set with one very long series, another with many short ones."""
    yield f"<message:StructureSpecificData {NS21}>{HEADER_START}</message:Header>\n".encode()
    yield b'<message:DataSet ss:structureRef="S" ss:action="Append">\n'
    yield b'<Series REF_AREA="THA" FREQ="M" SEX="SEX_T" UNIT_MULT="0">\n'
    for start in range(0, long_series, 500):
        yield "".join(
            f'<Obs TIME_PERIOD="{t}" OBS_VALUE="{t}.5" OBS_STATUS="A"/>\n'
            for t in range(start, min(start + 500, long_series))
        ).encode()
    yield b"</Series></message:DataSet>\n"
    yield b'<message:DataSet ss:structureRef="S" ss:action="Replace">\n'
    for s in range(short_series):
        yield (
            f'<Series REF_AREA="A{s}" FREQ="A" SEX="SEX_F">'
            + "".join(f'<Obs TIME_PERIOD="{1900 + t}" OBS_VALUE="{t}"/>' for t in range(per_short))
            + "</Series>\n"
        ).encode()
    yield b"</message:DataSet></message:StructureSpecificData>\n"


def _rss_bytes() -> int | None:
    statm = Path("/proc/self/statm")
    if not statm.is_file():
        return None
    import resource

    return int(statm.read_text().split()[1]) * resource.getpagesize()


def test_a_big_message_is_read_in_constant_memory() -> None:
    long_series, short_series, per_short = 100_000, 1_000, 100
    stream = io.BufferedReader(
        GeneratedStream(generated_message(long_series, short_series, per_short))
    )
    count = 0
    rss_early = rss_late = None
    tracemalloc.start()
    try:
        for r in read_rows(stream, MIG):
            count += 1
            if count == 20_000:
                rss_early = _rss_bytes()
            if count == 199_000:
                rss_late = _rss_bytes()
                last = r
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == long_series + short_series * per_short
    assert last.action is R
    assert last.key["REF_AREA"] == "A989"
    assert last.location == f"line {6 + long_series + 989}"  # past libxml2's 65,535 lines
    assert peak < 30_000_000, f"Python allocations peaked at {peak / 1e6:.1f} MB"
    if rss_early is not None and rss_late is not None:  # the lxml tree lives outside Python
        assert rss_late - rss_early < 30_000_000, "the parsed tree was not pruned"
