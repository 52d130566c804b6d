"""The ILMS tables as typed data: modules, titles (en, fr, es), ILOSTAT measures, breakdowns."""

# Modelling (one DSD per module, a cube over all of the module's breakdowns; see ``ILMS.md``):
#
# - A table is a set of *series*: one ILOSTAT measure with the breakdowns it comes with. A series is
#   exactly one ILOSTAT indicator, ``<measure stem>_<breakdown dimensions>_<unit>``, e.g.
#   ``MST_TEMP_NB`` by SEX, ECO and CBR is ``MST_TEMP_SEX_ECO_CBR_NB``.
# - "Migrant status" is either place of birth (``CBR_BIR_*``: total, native-born, foreign-born,
#   unknown) or citizenship (``CCT_CIT_*``: total, citizens, non-citizens, unknown), whichever the
#   country measures, so a "total and migrants" table has one series per measure and per variant.
# - "Country of origin" is country of birth (``CBR_BRT_*``) or of citizenship (``CCT_CTZ_*``).
# - A breakdown a series does not use takes its dimension's canonical total (``CANONICAL_TOTALS``),
#   so one total observation (say all employed persons) is shared by tables 5, 6 and 7.
#
# Canonical totals: each classification's ``_TOTAL`` code of the version ILMS uses (ISCED 2011,
# ISIC Rev.4, ISCO-08, ICSE-93), ``SEX_T``, ``CBR_BIR_TOTAL`` and ``CCT_CIT_TOTAL`` (the totals
# of migrant status, which the country-of-origin tables also use for the measure that does not
# classify by that variable), and ``CRS_RES_TOTAL``, ``CDS_DES_TOTAL``, ``CPR_PRV_TOTAL``.
# For AGE it is ``AGE_AGGREGATE_TOTAL``, not ``AGE_YTHADULT_YGE15``: the total is "not broken down
# by age" of whatever population the measure covers, which is 15+ for the labour measures but all
# ages for the foreign-born and non-citizen population of tables 3 and 4 (``MST_FORP_NB``,
# ``MST_NCTP_NB``), so "15+" would mislabel it.
#
# Age breakdown (table 1): ILOSTAT's aggregate bands ``AGE_AGGREGATE_*`` (total, <15, 15-24,
# 25-54, 25-64, 55-64, 65+): youth, prime age and older workers as the ICLS labour force tables
# use them, with <15 for countries whose working age starts earlier and 25-64 for sources that
# do not split at 55. One age version only, so the table has one age total.
#
# Classification codes: every code of the version (``ECO_ISIC4_*``, ``OCU_ISCO08_*``,
# ``EDU_ISCED11_*``, ``STE_ICSE93_*``, ``CBR_BRT_*``...), total and "not classified" included,
# so also ILOSTAT's grouped sections (``ECO_ISIC4_DE``, ``_HJ``, ``_LMN``, ``_RSTU``) for
# countries that cannot split them, and the regional groups of the country lists. SEX is only
# ``SEX_T``, ``SEX_M``, ``SEX_F``: the questionnaire asks male and female.
#
# ILOSTAT indicator ids are all derived from the series by the convention above. All but four
# appear in lists of ILOSTAT indicator ids published online (e.g. ``MST_TEMP_SEX_ECO_CBR_NB``,
# ``MFL_FEMP_SEX_OCU_NB``, ``MNA_XRET_SEX_CPR_NB``, ``MST_EARA_SEX_CBR_NB``); these four are
# derived by the convention only: ``MST_TEIP_SEX_AGE_CCT_NB``, ``MST_EARA_SEX_CCT_NB``,
# ``MFL_XWAP_SEX_CBR_NB`` and ``MFL_XWAP_SEX_CCT_NB``. ILOSTAT's flow indicators by ECO, OCU or
# EDU carry no CBR/CCT: the measure itself says foreign-born (``MFL_F*``) or non-citizen
# (``MFL_N*``), so those series have no migrant-status breakdown.

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from service.model import Localised

_T = TypeVar("_T")


class Module(enum.StrEnum):
    """The three ILMS modules, by their letter."""

    STOCK = "A"
    FLOW = "B"
    ABROAD = "C"


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """A module's DSD id, names and breakdown dimensions (between MEASURE and TIME_PERIOD)."""

    module: Module
    dsd_id: str
    names: Localised
    breakdowns: tuple[str, ...]


MODULES: dict[Module, ModuleInfo] = {
    Module.STOCK: ModuleInfo(
        module=Module.STOCK,
        dsd_id="DSD_ILMS_STOCK",
        names={
            "en": "International migrant stock",
            "fr": "Stock de migrants internationaux",
            "es": "Stock de migrantes internacionales",
        },
        breakdowns=("SEX", "AGE", "EDU", "ECO", "OCU", "STE", "CBR", "CCT"),
    ),
    Module.FLOW: ModuleInfo(
        module=Module.FLOW,
        dsd_id="DSD_ILMS_FLOW",
        names={
            "en": "International migrant flow",
            "fr": "Flux de migrants internationaux",
            "es": "Flujos de migrantes internacionales",
        },
        breakdowns=("SEX", "EDU", "ECO", "OCU", "CBR", "CCT"),
    ),
    Module.ABROAD: ModuleInfo(
        module=Module.ABROAD,
        dsd_id="DSD_ILMS_ABROAD",
        names={
            "en": "Nationals abroad",
            "fr": "Ressortissants à l'étranger",
            "es": "Nacionales en el extranjero",
        },
        breakdowns=("SEX", "ECO", "OCU", "CRS", "CDS", "CPR"),
    ),
}

#: The one frequency of ILMS data: annual.
FREQUENCY = "A"

#: The code a breakdown takes in a series that does not classify by it.
CANONICAL_TOTALS: dict[str, str] = {
    "SEX": "SEX_T",
    "AGE": "AGE_AGGREGATE_TOTAL",
    "EDU": "EDU_ISCED11_TOTAL",
    "ECO": "ECO_ISIC4_TOTAL",
    "OCU": "OCU_ISCO08_TOTAL",
    "STE": "STE_ICSE93_TOTAL",
    "CBR": "CBR_BIR_TOTAL",
    "CCT": "CCT_CIT_TOTAL",
    "CRS": "CRS_RES_TOTAL",
    "CDS": "CDS_DES_TOTAL",
    "CPR": "CPR_PRV_TOTAL",
}


@dataclass(frozen=True, slots=True)
class CodeGroup:
    """The codes of one dimension a breakdown uses.

    Every code of the classification version ``prefix`` (``ECO_ISIC4`` selects ``ECO_ISIC4_*``,
    total and "not classified" included), or only ``prefix_<item>`` for the ``items`` given.
    """

    dimension: str
    prefix: str
    items: tuple[str, ...] = ()

    def select(self, code_ids: Iterable[str]) -> tuple[str, ...]:
        """The group's codes, in the codelist's order when taken from ``code_ids``."""
        if self.items:
            return tuple(f"{self.prefix}_{item}" for item in self.items)
        start = f"{self.prefix}_"
        return tuple(code for code in code_ids if code.startswith(start))


#: Male and female, as the ILMS questionnaire asks, and their total.
SEX = CodeGroup("SEX", "SEX", ("T", "M", "F"))
AGE = CodeGroup("AGE", "AGE_AGGREGATE")
EDU = CodeGroup("EDU", "EDU_ISCED11")
ECO = CodeGroup("ECO", "ECO_ISIC4")
OCU = CodeGroup("OCU", "OCU_ISCO08")
STE = CodeGroup("STE", "STE_ICSE93")
#: Migrant status measured by place of birth / by citizenship.
BIRTH_STATUS = CodeGroup("CBR", "CBR_BIR")
CITIZENSHIP_STATUS = CodeGroup("CCT", "CCT_CIT")
#: Country of origin: of birth / of citizenship.
BIRTH_COUNTRY = CodeGroup("CBR", "CBR_BRT")
CITIZENSHIP_COUNTRY = CodeGroup("CCT", "CCT_CTZ")
RESIDENCE_COUNTRY = CodeGroup("CRS", "CRS_RES")
DESTINATION_COUNTRY = CodeGroup("CDS", "CDS_DES")
PREVIOUS_RESIDENCE_COUNTRY = CodeGroup("CPR", "CPR_PRV")


@dataclass(frozen=True, slots=True)
class Series:
    """One ILOSTAT measure with the breakdowns it comes with: one ILOSTAT indicator."""

    measure: str
    breakdowns: tuple[CodeGroup, ...]

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(group.dimension for group in self.breakdowns)

    @property
    def indicator(self) -> str:
        """The indicator id: ``MST_TEMP_NB`` by SEX, ECO, CBR is ``MST_TEMP_SEX_ECO_CBR_NB``."""
        stem, unit = self.measure.rsplit("_", 1)
        return "_".join((stem, *self.dimensions, unit))


@dataclass(frozen=True, slots=True)
class IlmsTable:
    """An ILMS table: its number, module, titles (en, fr, es) and series."""

    number: int
    module: Module
    titles: Localised
    series: tuple[Series, ...]
    #: Appended to the table code of a table outside the 17 standard ones (``C18_XRET``).
    suffix: str = ""

    @property
    def standard(self) -> bool:
        """Whether this is one of the 17 standard ILMS tables."""
        return not self.suffix

    @property
    def code(self) -> str:
        """``A01`` ... ``C17``, ``C18_XRET``: the module letter and the table number."""
        base = f"{self.module}{self.number:02d}"
        return f"{base}_{self.suffix}" if self.suffix else base

    @property
    def measures(self) -> tuple[str, ...]:
        return _unique(s.measure for s in self.series)

    @property
    def breakdowns(self) -> tuple[str, ...]:
        """The dimensions the table classifies by, in its module's DSD order."""
        used = {dim for s in self.series for dim in s.dimensions}
        return tuple(dim for dim in MODULES[self.module].breakdowns if dim in used)

    @property
    def indicators(self) -> tuple[str, ...]:
        return _unique(s.indicator for s in self.series)

    def groups(self, dimension: str) -> tuple[CodeGroup, ...]:
        """The code groups the table's series use for ``dimension`` (none: canonical total)."""
        found = (g for s in self.series for g in s.breakdowns if g.dimension == dimension)
        return _unique(found)

    def uses_total(self, dimension: str) -> bool:
        """Whether some series of the table does not classify by ``dimension``."""
        return any(dimension not in s.dimensions for s in self.series)


def _unique(items: Iterable[_T]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(items))


def _each(measures: Sequence[str], *groups: CodeGroup) -> tuple[Series, ...]:
    """One series per measure, by sex and ``groups``."""
    return tuple(Series(m, (SEX, *groups)) for m in measures)


def _migrants(measures: Sequence[str], *groups: CodeGroup) -> tuple[Series, ...]:
    """Total and migrants: per measure, one series by place of birth and one by citizenship."""
    return tuple(
        Series(m, (SEX, *groups, status))
        for m in measures
        for status in (BIRTH_STATUS, CITIZENSHIP_STATUS)
    )


def _en_fr_es(en: str, fr: str, es: str) -> Localised:
    return {"en": en, "fr": fr, "es": es}


_LABOUR_MARKET = ("MST_XWAP_NB", "MST_TEAP_NB", "MST_TEMP_NB", "MST_TUNE_NB", "MST_TEIP_NB")

TABLES: tuple[IlmsTable, ...] = (
    IlmsTable(
        number=1,
        module=Module.STOCK,
        titles=_en_fr_es(
            "Resident population, by sex, age and labour market status, total and migrants",
            "Population résidente, par sexe, âge et situation sur le marché du travail, "
            "total et migrants",
            "Población residente, por sexo, edad y situación en el mercado de trabajo, "
            "total y migrantes",
        ),
        series=_migrants(_LABOUR_MARKET, AGE),
    ),
    IlmsTable(
        number=2,
        module=Module.STOCK,
        titles=_en_fr_es(
            "Working-age population, by sex and education (ISCED 2011), total and migrants",
            "Population en âge de travailler, par sexe et niveau d'instruction (CITE 2011), "
            "total et migrants",
            "Población en edad de trabajar, por sexo y nivel educativo (CINE 2011), "
            "total y migrantes",
        ),
        series=_migrants(("MST_XWAP_NB",), EDU),
    ),
    IlmsTable(
        number=3,
        module=Module.STOCK,
        titles=_en_fr_es(
            "Migrants, by country of origin",
            "Migrants, par pays d'origine",
            "Migrantes, por país de origen",
        ),
        series=(
            Series("MST_FORP_NB", (SEX, BIRTH_COUNTRY)),
            Series("MST_NCTP_NB", (SEX, CITIZENSHIP_COUNTRY)),
        ),
    ),
    IlmsTable(
        number=4,
        module=Module.STOCK,
        titles=_en_fr_es(
            "Employed migrants, by country of origin",
            "Migrants ayant un emploi, par pays d'origine",
            "Migrantes ocupados, por país de origen",
        ),
        series=(
            Series("MST_FORE_NB", (SEX, BIRTH_COUNTRY)),
            Series("MST_NCTE_NB", (SEX, CITIZENSHIP_COUNTRY)),
        ),
    ),
    IlmsTable(
        number=5,
        module=Module.STOCK,
        titles=_en_fr_es(
            "Employed persons, by economic activity (ISIC Rev.4), total and migrants",
            "Personnes ayant un emploi, par activité économique (CITI Rév.4), total et migrants",
            "Personas ocupadas, por actividad económica (CIIU Rev.4), total y migrantes",
        ),
        series=_migrants(("MST_TEMP_NB",), ECO),
    ),
    IlmsTable(
        number=6,
        module=Module.STOCK,
        titles=_en_fr_es(
            "Employed persons, by occupation (ISCO-08), total and migrants",
            "Personnes ayant un emploi, par profession (CITP-08), total et migrants",
            "Personas ocupadas, por ocupación (CIUO-08), total y migrantes",
        ),
        series=_migrants(("MST_TEMP_NB",), OCU),
    ),
    IlmsTable(
        number=7,
        module=Module.STOCK,
        titles=_en_fr_es(
            "Employed persons, by sex and status in employment (ICSE-93), total and migrants",
            "Personnes ayant un emploi, par sexe et situation dans la profession (CISP-93), "
            "total et migrants",
            "Personas ocupadas, por sexo y situación en el empleo (CISE-93), total y migrantes",
        ),
        series=_migrants(("MST_TEMP_NB",), STE),
    ),
    IlmsTable(
        number=8,
        module=Module.STOCK,
        titles=_en_fr_es(
            "Average monthly wages, by sex, total and migrants",
            "Salaires mensuels moyens, par sexe, total et migrants",
            "Salarios mensuales medios, por sexo, total y migrantes",
        ),
        series=_migrants(("MST_EARA_NB",)),
    ),
    IlmsTable(
        number=9,
        module=Module.FLOW,
        titles=_en_fr_es(
            "Inflows of working-age migrants, by sex and country of origin",
            "Entrées de migrants en âge de travailler, par sexe et pays d'origine",
            "Entradas de migrantes en edad de trabajar, por sexo y país de origen",
        ),
        series=(
            Series("MFL_XWAP_NB", (SEX, BIRTH_COUNTRY)),
            Series("MFL_XWAP_NB", (SEX, CITIZENSHIP_COUNTRY)),
            Series("MFL_FPOP_NB", (SEX, BIRTH_COUNTRY)),
            Series("MFL_NCIT_NB", (SEX, CITIZENSHIP_COUNTRY)),
        ),
    ),
    IlmsTable(
        number=10,
        module=Module.FLOW,
        titles=_en_fr_es(
            "Inflows of migrants, by sex and education (ISCED 2011)",
            "Entrées de migrants, par sexe et niveau d'instruction (CITE 2011)",
            "Entradas de migrantes, por sexo y nivel educativo (CINE 2011)",
        ),
        series=_each(("MFL_FWAP_NB", "MFL_NWAP_NB"), EDU),
    ),
    IlmsTable(
        number=11,
        module=Module.FLOW,
        titles=_en_fr_es(
            "Inflows of employed migrants, by economic activity (ISIC Rev.4)",
            "Entrées de migrants ayant un emploi, par activité économique (CITI Rév.4)",
            "Entradas de migrantes ocupados, por actividad económica (CIIU Rev.4)",
        ),
        series=_each(("MFL_FEMP_NB", "MFL_NEMP_NB"), ECO),
    ),
    IlmsTable(
        number=12,
        module=Module.FLOW,
        titles=_en_fr_es(
            "Inflows of employed migrants, by occupation (ISCO-08)",
            "Entrées de migrants ayant un emploi, par profession (CITP-08)",
            "Entradas de migrantes ocupados, por ocupación (CIUO-08)",
        ),
        series=_each(("MFL_FEMP_NB", "MFL_NEMP_NB"), OCU),
    ),
    IlmsTable(
        number=13,
        module=Module.ABROAD,
        titles=_en_fr_es(
            "Stock of nationals abroad, by sex and country of residence",
            "Stock de ressortissants à l'étranger, par sexe et pays de résidence",
            "Stock de nacionales en el extranjero, por sexo y país de residencia",
        ),
        series=_each(("MNA_TPOP_NB",), RESIDENCE_COUNTRY),
    ),
    IlmsTable(
        number=14,
        module=Module.ABROAD,
        titles=_en_fr_es(
            "Outflow of nationals, by sex and country of destination",
            "Sorties de ressortissants, par sexe et pays de destination",
            "Salidas de nacionales, por sexo y país de destino",
        ),
        series=_each(("MNA_OPOP_NB",), DESTINATION_COUNTRY),
    ),
    IlmsTable(
        number=15,
        module=Module.ABROAD,
        titles=_en_fr_es(
            "Outflow of nationals for employment, by sex and country of destination",
            "Sorties de ressortissants pour l'emploi, par sexe et pays de destination",
            "Salidas de nacionales por motivos de empleo, por sexo y país de destino",
        ),
        series=_each(("MNA_OEMP_NB",), DESTINATION_COUNTRY),
    ),
    IlmsTable(
        number=16,
        module=Module.ABROAD,
        titles=_en_fr_es(
            "Outflow of nationals for employment, by economic activity (ISIC Rev.4)",
            "Sorties de ressortissants pour l'emploi, par activité économique (CITI Rév.4)",
            "Salidas de nacionales por motivos de empleo, por actividad económica (CIIU Rev.4)",
        ),
        series=_each(("MNA_OEMP_NB",), ECO),
    ),
    IlmsTable(
        number=17,
        module=Module.ABROAD,
        titles=_en_fr_es(
            "Outflow of nationals for employment, by occupation (ISCO-08)",
            "Sorties de ressortissants pour l'emploi, par profession (CITP-08)",
            "Salidas de nacionales por motivos de empleo, por ocupación (CIUO-08)",
        ),
        series=_each(("MNA_OEMP_NB",), OCU),
    ),
    IlmsTable(
        number=18,
        module=Module.ABROAD,
        suffix="XRET",
        titles=_en_fr_es(
            "Nationals returned from abroad, by sex and country of previous residence",
            "Ressortissants revenus de l'étranger, par sexe et pays de résidence antérieure",
            "Nacionales retornados del extranjero, por sexo y país de residencia anterior",
        ),
        series=_each(("MNA_XRET_NB",), PREVIOUS_RESIDENCE_COUNTRY),
    ),
)


@dataclass(frozen=True, slots=True)
class Country:
    """An ASEAN Member State: ISO 3166 alpha-3 code and its UN short names."""

    iso3: str
    names: Localised


#: The ten ASEAN Member States, each a data provider (its national ILMS focal point).
ASEAN: tuple[Country, ...] = (
    Country("BRN", _en_fr_es("Brunei Darussalam", "Brunéi Darussalam", "Brunei Darussalam")),
    Country("KHM", _en_fr_es("Cambodia", "Cambodge", "Camboya")),
    Country("IDN", _en_fr_es("Indonesia", "Indonésie", "Indonesia")),
    Country(
        "LAO",
        _en_fr_es(
            "Lao People's Democratic Republic",
            "République démocratique populaire lao",
            "República Democrática Popular Lao",
        ),
    ),
    Country("MYS", _en_fr_es("Malaysia", "Malaisie", "Malasia")),
    Country("MMR", _en_fr_es("Myanmar", "Myanmar", "Myanmar")),
    Country("PHL", _en_fr_es("Philippines", "Philippines", "Filipinas")),
    Country("SGP", _en_fr_es("Singapore", "Singapour", "Singapur")),
    Country("THA", _en_fr_es("Thailand", "Thaïlande", "Tailandia")),
    Country("VNM", _en_fr_es("Viet Nam", "Viet Nam", "Viet Nam")),
)
