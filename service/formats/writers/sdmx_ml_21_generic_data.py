"""Module for writing SDMX-ML 2.1 GenericData and GenericTimeSeriesData messages.

A generic message spells every component as a ``generic:Value`` element with ``id`` and
``value``, so it is valid without any data structure specific schema:

- a series is ``generic:Series`` with its ``SeriesKey`` (every dimension but the one at
  observation, the time period included when another dimension is at observation), its
  ``Attributes`` and its ``Obs``, each with ``ObsDimension`` (id and value of the dimension at
  observation), ``ObsValue`` (left out when the measure is missing) and ``Attributes``;
- with ``AllDimensions``, the data set holds ``generic:Obs`` each with its full ``ObsKey``;
- data set level attributes are the data set's ``generic:Attributes``.

GenericTimeSeriesData is the same with the time dimension at observation only. GenericData is
the SDMX REST 1.x default data format.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import ClassVar, Final

from service.formats.writers.data_common import (
    ACTION_NAMES_21,
    DataFormat,
    DataMessage,
    DataSetInfo,
    DataSetPart,
    OutRow,
)
from service.formats.writers.sdmx_ml_21_ss_data import structure_ref_21
from service.formats.writers.sdmx_ml_data_common import (
    XML_DECLARATION,
    SdmxMlDataWriter,
    escape,
    first_values,
    header_start,
    validity,
)
from service.formats.xml_common import SDMX_ML_21

MEDIA_TYPE: Final = "application/vnd.sdmx.genericdata+xml;version=2.1"
TIME_SERIES_MEDIA_TYPE: Final = "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1"
GENERIC_21: Final = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic"


class GenericWriter(SdmxMlDataWriter):
    """SDMX-ML 2.1 GenericData."""

    label = "SDMX-ML 2.1 GenericData"
    root: ClassVar[str] = "GenericData"

    def head(self) -> str:
        message = self.message
        return (
            f'{XML_DECLARATION}<message:{self.root} xmlns:message="{SDMX_ML_21.message}" '
            f'xmlns:common="{SDMX_ML_21.common}" xmlns:generic="{GENERIC_21}">\n'
            f"{header_start(message)}"
            f'<message:Structure structureID="{self.structure_id}" '
            f'dimensionAtObservation="{escape(message.dimension_at_observation)}">'
            f"{structure_ref_21(message)}</message:Structure>\n"
            "</message:Header>\n"
        )

    def dataset_start(self, info: DataSetInfo, first: OutRow | None) -> str:
        values = first_values([first], self.layout.dataset_attrs) if first else []
        return (
            f'<message:DataSet structureRef="{self.structure_id}" '
            f'action="{ACTION_NAMES_21[info.action]}"{validity(info, "")}>\n'
            f"{self._values('Attributes', values)}"
        )

    def _values(self, tag: str, pairs: Iterable[tuple[str, str]]) -> str:
        """``<generic:{tag}>`` holding a ``Value`` per pair; nothing when there is none."""
        esc = self.esc
        inner = "".join(
            f'<generic:Value id="{name}" value="{esc[value]}"/>' for name, value in pairs
        )
        return f"<generic:{tag}>{inner}</generic:{tag}>" if inner else ""

    def series(self, key: tuple[str, ...], rows: Sequence[OutRow]) -> str:
        lay = self.layout
        lines = [
            "<generic:Series>",
            self._values("SeriesKey", zip(lay.series_dims, key, strict=True)),
            self._values("Attributes", first_values(rows, lay.series_attrs)),
            "\n",
        ]
        if lay.values:
            [(dim, position)] = lay.obs_dims
            esc = self.esc
            for row in rows:
                codes, period = row[0], row[1]
                obs_key = esc[period if position < 0 else codes[position]]
                lines.append(
                    f'<generic:Obs><generic:ObsDimension id="{dim}" value="{obs_key}"/>'
                    f"{self._observed(row)}</generic:Obs>\n"
                )
        lines.append("</generic:Series>\n")
        return "".join(lines)

    def _observed(self, row: OutRow) -> str:
        """An observation's ``ObsValue`` (unless missing) and ``Attributes``."""
        attrs = row[3]
        pairs = ((name, text) for name in self.layout.obs_attrs if (text := attrs.get(name)))
        value = row[2]
        observed = (
            f'<generic:ObsValue value="{escape(value)}"/>' if value and self.layout.values else ""
        )
        return observed + self._values("Attributes", pairs)

    def flat(self, rows: Sequence[OutRow]) -> str:
        obs_dims = self.layout.obs_dims
        lines = []
        for row in rows:
            codes, period = row[0], row[1]
            obs_key = self._values(
                "ObsKey",
                ((dim, period if position < 0 else codes[position]) for dim, position in obs_dims),
            )
            lines.append(f"<generic:Obs>{obs_key}{self._observed(row)}</generic:Obs>\n")
        return "".join(lines)

    def tail(self) -> str:
        return f"</message:{self.root}>\n"


class GenericTimeSeriesWriter(GenericWriter):
    """SDMX-ML 2.1 GenericTimeSeriesData: time at observation level only."""

    label = "SDMX-ML 2.1 GenericTimeSeriesData"
    time_series_only = True
    root = "GenericTimeSeriesData"


def write(message: DataMessage, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
    """An SDMX-ML 2.1 GenericData message, any dimension at observation."""
    return GenericWriter(message).chunks(datasets)


def write_time_series(message: DataMessage, datasets: Iterable[DataSetPart]) -> Iterator[bytes]:
    """An SDMX-ML 2.1 GenericTimeSeriesData message.

    Raises:
        NotAcceptable: when the dimension at observation is not the time dimension.
    """
    return GenericTimeSeriesWriter(message).chunks(datasets)


FORMATS: Final = (
    DataFormat(
        media_type=MEDIA_TYPE,
        extension="xml",
        format_names=("genericdata", "generic_2_1"),
        accept={
            "application/vnd.sdmx.genericdata+xml": ("2.1",),
            # Plain XML asks for SDMX-ML in general: SDMX REST 1.x answers GenericData 2.1.
            "application/xml": (),
            "text/xml": (),
        },
        write=write,
    ),
    DataFormat(
        media_type=TIME_SERIES_MEDIA_TYPE,
        extension="xml",
        format_names=("generictimeseriesdata",),
        accept={"application/vnd.sdmx.generictimeseriesdata+xml": ("2.1",)},
        write=write_time_series,
        time_series_only=True,
    ),
)
