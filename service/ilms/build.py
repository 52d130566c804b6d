"""Builds the ILMS structures on ILOSTAT's codelists and writes them to dsd/ as SDMX-ML 2.1."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from service.formats.base import Header, Lang
from service.formats.readers.sdmx_ml_structure import read_structures
from service.formats.writers.sdmx_ml_21_structure import SdmxMl21StructureWriter
from service.ilms.tables import (
    ASEAN,
    CANONICAL_TOTALS,
    FREQUENCY,
    MODULES,
    TABLES,
    Country,
    IlmsTable,
    Module,
    ModuleInfo,
)
from service.model import (
    Agency,
    AgencyScheme,
    Annotation,
    Artefact,
    Attribute,
    AttributeRelationship,
    Categorisation,
    Category,
    CategoryScheme,
    Codelist,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataProvider,
    DataProviderScheme,
    DataStructure,
    Dimension,
    Localised,
    Measure,
    ProvisionAgreement,
    Ref,
    Representation,
)

AGENCY = "ILO"
VERSION = "1.0"
CATEGORY_SCHEME = "CAS_ILMS"
PROVIDER_SCHEME = "DATA_PROVIDERS"
AGENCY_SCHEME = "AGENCIES"
#: Annotation types this module writes.
MODULE_ANNOTATION = "ILMS_MODULE"
TABLE_ANNOTATION = "ILMS_TABLE"
INDICATOR_ANNOTATION = "ILOSTAT_INDICATOR"

_CS_ILOSTAT = "CS_ILOSTAT"
_CS_CLASSIF = "CS_CLASSIF_TYPE"
_CS_NOTE = "CS_NOTE_TYPE"
_ILOSTAT_DIMENSIONS = ("REF_AREA", "FREQ", "MEASURE")
_TIME = "TIME_PERIOD"

#: A fixed header, so that the generated files are byte-stable.
DSD_HEADER = Header(
    id="ILMS_STRUCTURES", prepared=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), sender=AGENCY
)


class IlmsBuildError(ValueError):
    """The codelists given cannot support the ILMS structures (a codelist or code is missing)."""


# -- small constructors -------------------------------------------------------------------------


def _langs(en: str, fr: str, es: str) -> Localised:
    return {"en": en, "fr": fr, "es": es}


def _codelist_id(dimension: str) -> str:
    return "CL_AREA" if dimension == "REF_AREA" else f"CL_{dimension}"


def _codelist_ref(codelist_id: str) -> Ref:
    return Ref(cls="Codelist", agency=AGENCY, id=codelist_id, version=VERSION)


def _concept(scheme: str, concept: str) -> Ref:
    return Ref(cls="Concept", agency=AGENCY, id=scheme, version=VERSION, item=concept)


def _coded(codelist_id: str) -> Representation:
    return Representation(enumeration=_codelist_ref(codelist_id))


# -- the data structures ------------------------------------------------------------------------

_AT_OBSERVATION = AttributeRelationship(level="observation")
_AT_MEASURE = AttributeRelationship(level="dimensions", dimensions=("MEASURE",))
_AT_SOURCE = AttributeRelationship(level="dimensions", dimensions=("REF_AREA", "MEASURE", _TIME))


def _attribute(
    attribute_id: str, scheme: str, relationship: AttributeRelationship, *, coded: bool
) -> Attribute:
    return Attribute(
        id=attribute_id,
        concept=_concept(scheme, attribute_id),
        relationship=relationship,
        representation=_coded(f"CL_{attribute_id}") if coded else None,
    )


#: ILOSTAT's attributes, in the order and with the attachment of DSD ILO:IMF_ILOSTAT(1.0);
#: all conditional. SOURCE and the notes carry sources, definitions and limitations.
ATTRIBUTES: tuple[Attribute, ...] = (
    _attribute("OBS_STATUS", _CS_ILOSTAT, _AT_OBSERVATION, coded=True),
    _attribute("UNIT_MEASURE_TYPE", _CS_ILOSTAT, _AT_MEASURE, coded=True),
    _attribute("UNIT_MEASURE", _CS_ILOSTAT, _AT_MEASURE, coded=True),
    _attribute("UNIT_MULT", _CS_ILOSTAT, _AT_MEASURE, coded=True),
    _attribute("SOURCE", _CS_NOTE, _AT_SOURCE, coded=False),
    _attribute("NOTE_SOURCE", _CS_NOTE, _AT_SOURCE, coded=False),
    _attribute("NOTE_INDICATOR", _CS_NOTE, _AT_SOURCE, coded=False),
    _attribute("NOTE_CLASSIF", _CS_NOTE, _AT_OBSERVATION, coded=False),
    _attribute("DECIMALS", _CS_ILOSTAT, _AT_OBSERVATION, coded=True),
    _attribute("UPPER_BOUND", _CS_ILOSTAT, _AT_OBSERVATION, coded=False),
    _attribute("LOWER_BOUND", _CS_ILOSTAT, _AT_OBSERVATION, coded=False),
)


def dsd_dimension_ids(info: ModuleInfo) -> tuple[str, ...]:
    """A module DSD's dimensions in key order: ILOSTAT's, the breakdowns, then TIME_PERIOD."""
    return (*_ILOSTAT_DIMENSIONS, *info.breakdowns, _TIME)


def _dimension(dimension_id: str, position: int) -> Dimension:
    if dimension_id == _TIME:
        return Dimension(
            id=_TIME,
            position=position,
            concept=_concept(_CS_ILOSTAT, _TIME),
            representation=Representation(text_type="ObservationalTimePeriod"),
            kind="time",
        )
    scheme = _CS_ILOSTAT if dimension_id in _ILOSTAT_DIMENSIONS else _CS_CLASSIF
    return Dimension(
        id=dimension_id,
        position=position,
        concept=_concept(scheme, dimension_id),
        representation=_coded(_codelist_id(dimension_id)),
    )


def _module_annotation(module: Module) -> Annotation:
    return Annotation(type=MODULE_ANNOTATION, title=module.value, text=MODULES[module].names)


def _module_label(info: ModuleInfo) -> Localised:
    letter, names = info.module.value, info.names
    return _langs(
        f"ILMS module {letter}: {names['en']}",
        f"ILMS, module {letter} : {names['fr']}",
        f"ILMS, módulo {letter}: {names['es']}",
    )


def build_dsd(info: ModuleInfo) -> DataStructure:
    """The DSD of a module: a cube over all the breakdowns of its tables."""
    letter = info.module.value
    return DataStructure(
        agency=AGENCY,
        id=info.dsd_id,
        version=VERSION,
        names=_module_label(info),
        descriptions=_langs(
            f"All breakdowns of the ILMS module {letter} tables; each table is a dataflow "
            "constrained to its codes, with a classification's total where it does not use it.",
            f"Toutes les ventilations des tableaux du module {letter} de l'ILMS ; chaque tableau "
            "est un flux de données limité à ses codes, avec le total d'une classification "
            "lorsqu'il ne l'utilise pas.",
            f"Todos los desgloses de los cuadros del módulo {letter} de ILMS; cada cuadro es un "
            "flujo de datos restringido a sus códigos, con el total de una clasificación "
            "cuando no la utiliza.",
        ),
        annotations=(
            # ILOSTAT's limit on free-text attributes (SOURCE, NOTE_*), as in ILO:IMF_ILOSTAT.
            Annotation(id="@SDMX", title="1024", type="MAXTEXTATTRIBUTELENGTH"),
            _module_annotation(info.module),
        ),
        dimensions=tuple(_dimension(d, i) for i, d in enumerate(dsd_dimension_ids(info), start=1)),
        attributes=ATTRIBUTES,
        measures=(Measure(id="OBS_VALUE", concept=_concept(_CS_ILOSTAT, "OBS_VALUE")),),
    )


# -- dataflows and their constraints ------------------------------------------------------------


def dataflow_id(table: IlmsTable) -> str:
    return f"DF_ILMS_{table.code}"


def _table_label(table: IlmsTable, en: str, fr: str, es: str) -> Localised:
    """``ILMS table 5<en>`` and its French and Spanish forms."""
    n = table.number
    return _langs(f"ILMS table {n}{en}", f"Tableau ILMS {n}{fr}", f"Cuadro ILMS {n}{es}")


_NOT_STANDARD = _langs(
    "Not one of the 17 standard ILMS tables: collected by the revised ILMS questionnaire.",
    "Ne fait pas partie des 17 tableaux standard de l'ILMS : collecté par le questionnaire "
    "ILMS révisé.",
    "No forma parte de los 17 cuadros estándar de ILMS: recopilado por el cuestionario ILMS "
    "revisado.",
)


def _table_annotations(table: IlmsTable) -> tuple[Annotation, ...]:
    number = Annotation(
        type=TABLE_ANNOTATION,
        title=str(table.number),
        text={} if table.standard else _NOT_STANDARD,
    )
    indicators = (Annotation(type=INDICATOR_ANNOTATION, title=i) for i in table.indicators)
    return (_module_annotation(table.module), number, *indicators)


def build_dataflow(table: IlmsTable) -> Dataflow:
    titles = table.titles
    return Dataflow(
        agency=AGENCY,
        id=dataflow_id(table),
        version=VERSION,
        names=_table_label(table, f": {titles['en']}", f" : {titles['fr']}", f": {titles['es']}"),
        annotations=_table_annotations(table),
        structure=Ref(
            cls="DataStructure", agency=AGENCY, id=MODULES[table.module].dsd_id, version=VERSION
        ),
    )


@dataclass(frozen=True, slots=True)
class CodeIndex:
    """The code ids of the codelists given, by codelist id, in codelist order."""

    by_codelist: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, codelists: Iterable[Codelist]) -> CodeIndex:
        return cls(
            {
                cl.id: tuple(code.id for code in cl.items)
                for cl in codelists
                if cl.agency == AGENCY and cl.version == VERSION
            }
        )

    def ids(self, codelist_id: str) -> tuple[str, ...]:
        try:
            return self.by_codelist[codelist_id]
        except KeyError:
            raise IlmsBuildError(
                f"codelist {AGENCY}:{codelist_id}({VERSION}) is missing from the codelists given"
            ) from None

    def checked(self, codelist_id: str, wanted: Iterable[str], context: str) -> tuple[str, ...]:
        """``wanted`` in codelist order; raises if one of them is not in the codelist."""
        ids = self.ids(codelist_id)
        wanted_set = set(wanted)
        missing = sorted(wanted_set.difference(ids))
        if missing:
            raise IlmsBuildError(
                f"{context}: {AGENCY}:{codelist_id}({VERSION}) has no code {', '.join(missing)}"
            )
        return tuple(code for code in ids if code in wanted_set)


def table_codes(table: IlmsTable, dimension: str, codes: CodeIndex) -> tuple[str, ...]:
    """The codes a table uses for a breakdown: its code groups, plus the canonical total."""
    codelist_id = _codelist_id(dimension)
    ids = codes.ids(codelist_id)
    wanted: list[str] = []
    for group in table.groups(dimension):
        selected = group.select(ids)
        if not selected:
            raise IlmsBuildError(
                f"{dataflow_id(table)}: {AGENCY}:{codelist_id}({VERSION}) "
                f"has no {group.prefix}_* code"
            )
        wanted.extend(selected)
    if table.uses_total(dimension):
        wanted.append(CANONICAL_TOTALS[dimension])
    return codes.checked(codelist_id, wanted, dataflow_id(table))


def _cube(table: IlmsTable, codes: CodeIndex) -> dict[str, tuple[str, ...]]:
    df = dataflow_id(table)
    key_values = {
        "FREQ": codes.checked("CL_FREQ", (FREQUENCY,), df),
        # Measures in the table's order, checked against CL_MEASURE.
        "MEASURE": table.measures,
    }
    codes.checked("CL_MEASURE", table.measures, df)
    for dimension in MODULES[table.module].breakdowns:
        key_values[dimension] = table_codes(table, dimension, codes)
    return key_values


def build_constraint(table: IlmsTable, codes: CodeIndex) -> ContentConstraint:
    """The Allowed constraint of a table's dataflow: exactly the codes the table uses."""
    return ContentConstraint(
        agency=AGENCY,
        id=f"CR_ILMS_{table.code}",
        version=VERSION,
        names=_table_label(table, ": allowed codes", " : codes autorisés", ": códigos permitidos"),
        role="Allowed",
        attachment=(Ref(cls="Dataflow", agency=AGENCY, id=dataflow_id(table), version=VERSION),),
        cube_regions=(CubeRegion(include=True, key_values=_cube(table, codes)),),
    )


def _category_ref(module: Module) -> Ref:
    return Ref(
        cls="Category", agency=AGENCY, id=CATEGORY_SCHEME, version=VERSION, item=module.value
    )


def build_categorisation(table: IlmsTable) -> Categorisation:
    letter = table.module.value
    return Categorisation(
        agency=AGENCY,
        id=f"CAT_{dataflow_id(table)}",
        version=VERSION,
        names=_table_label(
            table,
            f" in module {letter}",
            f" dans le module {letter}",
            f" en el módulo {letter}",
        ),
        source=Ref(cls="Dataflow", agency=AGENCY, id=dataflow_id(table), version=VERSION),
        target=_category_ref(table.module),
    )


def build_category_scheme() -> CategoryScheme:
    return CategoryScheme(
        agency=AGENCY,
        id=CATEGORY_SCHEME,
        version=VERSION,
        names=_langs("ILMS modules", "Modules de l'ILMS", "Módulos de ILMS"),
        items=tuple(
            Category(id=info.module.value, names=_module_label(info)) for info in MODULES.values()
        ),
    )


# -- agencies, providers and provision agreements -----------------------------------------------


def build_agency_scheme() -> AgencyScheme:
    return AgencyScheme(
        agency="SDMX",
        id=AGENCY_SCHEME,
        version=VERSION,
        # SDMX 2.1 fixes isFinal="false" for organisation schemes: they are never final.
        is_final=False,
        names=_langs("SDMX agency scheme", "Schéma d'agences SDMX", "Esquema de agencias SDMX"),
        items=(
            Agency(
                id=AGENCY,
                names=_langs(
                    "International Labour Organization",
                    "Organisation internationale du Travail",
                    "Organización Internacional del Trabajo",
                ),
            ),
        ),
    )


def _focal_point(country: Country) -> Localised:
    names = country.names
    return _langs(
        f"{names['en']}: national ILMS focal point",
        f"{names['fr']} : point focal national de l'ILMS",
        f"{names['es']}: punto focal nacional de ILMS",
    )


def build_provider_scheme() -> DataProviderScheme:
    return DataProviderScheme(
        agency=AGENCY,
        id=PROVIDER_SCHEME,
        version=VERSION,
        is_final=False,
        names=_langs(
            "ILMS data providers: the national focal points",
            "Fournisseurs de données de l'ILMS : les points focaux nationaux",
            "Proveedores de datos de ILMS: los puntos focales nacionales",
        ),
        items=tuple(DataProvider(id=c.iso3, names=_focal_point(c)) for c in ASEAN),
    )


def provider_ref(country: Country) -> Ref:
    return Ref(
        cls="DataProvider", agency=AGENCY, id=PROVIDER_SCHEME, version=VERSION, item=country.iso3
    )


def build_provider_constraint(country: Country, codes: CodeIndex) -> ContentConstraint:
    """A provider may only report data on its own country."""
    names = country.names
    area = codes.checked("CL_AREA", (country.iso3,), f"data provider {country.iso3}")
    return ContentConstraint(
        agency=AGENCY,
        id=f"CR_ILMS_PROVIDER_{country.iso3}",
        version=VERSION,
        names=_langs(
            f"{names['en']}: own reference area only",
            f"{names['fr']} : sa propre zone de référence uniquement",
            f"{names['es']}: solo su propia área de referencia",
        ),
        role="Allowed",
        attachment=(provider_ref(country),),
        cube_regions=(CubeRegion(include=True, key_values={"REF_AREA": area}),),
    )


def build_provision_agreement(country: Country, table: IlmsTable) -> ProvisionAgreement:
    names, df = country.names, dataflow_id(table)
    return ProvisionAgreement(
        agency=AGENCY,
        id=f"PA_{country.iso3}_{df.removeprefix('DF_')}",
        version=VERSION,
        names=_table_label(table, f": {names['en']}", f" : {names['fr']}", f": {names['es']}"),
        dataflow=Ref(cls="Dataflow", agency=AGENCY, id=df, version=VERSION),
        provider=provider_ref(country),
    )


# -- assembling and writing ---------------------------------------------------------------------


def _check_codelists(dsd: DataStructure, codes: CodeIndex) -> None:
    """Raises if a codelist the DSD's components use is not among the codelists given."""
    for ref in dsd.references():
        if ref.cls == "Codelist":
            codes.ids(ref.id)


def _module_artefacts(info: ModuleInfo, codes: CodeIndex) -> list[Artefact]:
    """A module's DSD, then its tables' dataflows, constraints and categorisations."""
    tables = [t for t in TABLES if t.module is info.module]
    dsd = build_dsd(info)
    _check_codelists(dsd, codes)
    return [
        dsd,
        *(build_dataflow(t) for t in tables),
        *(build_constraint(t, codes) for t in tables),
        *(build_categorisation(t) for t in tables),
    ]


def _provider_artefacts(codes: CodeIndex) -> list[Artefact]:
    """The agency and provider schemes, the providers' constraints and provision agreements."""
    return [
        build_agency_scheme(),
        build_provider_scheme(),
        *(build_provider_constraint(c, codes) for c in ASEAN),
        *(build_provision_agreement(c, t) for c in ASEAN for t in TABLES),
    ]


def ilms_files(codelists: Sequence[Codelist]) -> dict[str, list[Artefact]]:
    """The ILMS structures by the ``dsd/`` file that holds them (``ILO_DSD_ILMS_STOCK_1.0.xml``)."""
    codes = CodeIndex.of(codelists)
    files = {
        f"{AGENCY}_{info.dsd_id}_{VERSION}.xml": _module_artefacts(info, codes)
        for info in MODULES.values()
    }
    files[f"{AGENCY}_{CATEGORY_SCHEME}_{VERSION}.xml"] = [build_category_scheme()]
    files[f"{AGENCY}_{PROVIDER_SCHEME}_{VERSION}.xml"] = _provider_artefacts(codes)
    return files


def build_ilms_structures(codelists: Sequence[Codelist]) -> list[Artefact]:
    """Every ILMS artefact (agency ILO, version 1.0), built on ILOSTAT's codelists.

    Raises:
        IlmsBuildError: a codelist the structures use, or a code a constraint names, is missing.
    """
    return [artefact for group in ilms_files(codelists).values() for artefact in group]


def read_codelists(codelists_dir: Path) -> list[Codelist]:
    """Every codelist in the SDMX-ML files of a folder (files in name order)."""
    found: list[Codelist] = []
    for path in sorted(codelists_dir.glob("*.xml")):
        found.extend(a for a in read_structures(path).artefacts if isinstance(a, Codelist))
    return found


def write_dsd_dir(codelists_dir: Path, out_dir: Path) -> list[Path]:
    """Write the ILMS structures as SDMX-ML 2.1 files into ``out_dir``; returns the paths."""
    files = ilms_files(read_codelists(codelists_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = SdmxMl21StructureWriter()
    written = []
    for name, artefacts in files.items():
        path = out_dir / name
        path.write_bytes(writer.write_structures(artefacts, header=DSD_HEADER, lang=Lang()))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m service.ilms.build [CODELISTS_DIR [OUT_DIR]]``, by default codelists/ -> dsd/."""
    args = list(sys.argv[1:] if argv is None else argv)
    codelists_dir = Path(args[0]) if args else Path("codelists")
    out_dir = Path(args[1]) if len(args) > 1 else Path("dsd")
    for path in write_dsd_dir(codelists_dir, out_dir):
        print(path)


if __name__ == "__main__":
    main()
