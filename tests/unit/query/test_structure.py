"""Parsing of SDMX REST v1 and v2 structure queries, and version selection."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from service.errors import NotImplementedYet, QuerySyntaxError
from service.model.types import StructureType as T
from service.query.structure import (
    ITEM_SCHEME_TYPES,
    ApiVersion,
    Detail,
    ReferenceScope,
    StructureQuery,
    VersionOp,
    VersionSelector,
    parse_v1,
    parse_v2,
)

ALL_TYPES = tuple(T)


def v1(
    resource: str = "codelist",
    agency: str | None = None,
    resource_id: str | None = None,
    version: str | None = None,
    item: str | None = None,
    **params: str,
) -> StructureQuery:
    return parse_v1(resource, agency, resource_id, version, item, params)


def v2(
    structure_type: str | None = "codelist",
    agency: str | None = None,
    resource_id: str | None = None,
    version: str | None = None,
    item: str | None = None,
    **params: str,
) -> StructureQuery:
    return parse_v2(structure_type, agency, resource_id, version, item, params)


class TestV1Defaults:
    def test_missing_segments(self) -> None:
        q = v1("dataflow")
        assert q.api is ApiVersion.V1
        assert q.types == (T.DATAFLOW,)
        assert (q.agencies, q.ids, q.items) == (None, None, None)
        assert q.version.terms[0].op is VersionOp.FINAL
        assert q.references == frozenset()
        assert q.detail is Detail.FULL
        assert not q.is_item_query

    def test_all_keywords(self) -> None:
        q = v1("codelist", "all", "all", "all", "all")
        assert (q.agencies, q.ids, q.items) == (None, None, None)
        assert q.version.terms[0].op is VersionOp.ALL

    def test_plus_lists(self) -> None:
        q = v1("codelist", "ILO+ESTAT.DISS", "CL_SEX+CL_AGE+CL_SEX", "1.0+2.1", "SEX_T+SEX_F")
        assert q.agencies == ("ILO", "ESTAT.DISS")
        assert q.ids == ("CL_SEX", "CL_AGE")
        assert q.version.exact_versions == ("1.0", "2.1")
        assert q.items == ("SEX_T", "SEX_F")

    def test_structure_means_every_type(self) -> None:
        assert v1("structure", "ILO").types == ALL_TYPES

    def test_unknown_params_are_ignored(self) -> None:
        q = v1("codelist", format="sdmx-json", _="1700000000", startPeriod="2020", asOf="x")
        assert q == v1("codelist")


class TestV1Resources:
    @pytest.mark.parametrize("stype", list(T))
    def test_served(self, stype: T) -> None:
        assert v1(stype.value).types == (stype,)

    def test_case_insensitive(self) -> None:
        assert v1("DataFlow").types == (T.DATAFLOW,)

    @pytest.mark.parametrize(
        "resource",
        [
            "metadatastructure",
            "metadataflow",
            "hierarchicalcodelist",
            "organisationscheme",
            "dataconsumerscheme",
            "organisationunitscheme",
            "reportingtaxonomy",
            "structureset",
            "process",
            "attachmentconstraint",
            "actualconstraint",
            "allowedconstraint",
            "transformationscheme",
            "rulesetscheme",
            "userdefinedoperatorscheme",
            "customtypescheme",
            "namepersonalisationscheme",
            "namealiasscheme",
        ],
    )
    def test_standard_but_unserved_is_501(self, resource: str) -> None:
        with pytest.raises(NotImplementedYet, match=re.escape(f"'{resource}'")):
            v1(resource)

    @pytest.mark.parametrize("resource", ["codelists", "dataconstraint", "*", "hierarchy", ""])
    def test_unknown_is_140_listing_allowed(self, resource: str) -> None:
        with pytest.raises(QuerySyntaxError, match=re.escape(f"'{resource}'")) as err:
            v1(resource)
        assert "codelist" in err.value.detail
        assert "structure" in err.value.detail


class TestV1Identifiers:
    @pytest.mark.parametrize(
        ("agency", "resource_id", "bad"),
        [
            ("1ILO", None, "1ILO"),
            ("ILO,ESTAT", None, "ILO,ESTAT"),
            ("", None, ""),
            ("ILO+", None, ""),
            ("*", None, "*"),
            (None, "CL SEX", "CL SEX"),
            (None, "CL_SEX,CL_AGE", "CL_SEX,CL_AGE"),
            (None, "*", "*"),
        ],
    )
    def test_invalid(self, agency: str | None, resource_id: str | None, bad: str) -> None:
        with pytest.raises(QuerySyntaxError, match=re.escape(f"'{bad}'")):
            v1("codelist", agency, resource_id)

    @pytest.mark.parametrize(
        ("version", "exact"),
        [("1.0", ("1.0",)), ("1.0.0", ("1.0.0",)), ("1", ("1",)), ("1.0+1.0+2.1", ("1.0", "2.1"))],
    )
    def test_versions(self, version: str, exact: tuple[str, ...]) -> None:
        assert v1("codelist", "ILO", "CL_SEX", version).version.exact_versions == exact

    @pytest.mark.parametrize(
        ("version", "bad"),
        [
            ("~", "~"),
            ("*", "*"),
            ("+", ""),
            ("1.+.0", "1."),
            ("latest+1.0", "latest"),
            ("1.0-draft", "1.0-draft"),
            ("1.x", "1.x"),
        ],
    )
    def test_invalid_versions(self, version: str, bad: str) -> None:
        with pytest.raises(QuerySyntaxError, match=re.escape(f"'{bad}'")):
            v1("codelist", "ILO", "CL_SEX", version)


class TestV1Items:
    @pytest.mark.parametrize("stype", ITEM_SCHEME_TYPES)
    def test_item_schemes(self, stype: T) -> None:
        q = v1(stype.value, "ILO", "X", "1.0", "A+B.C")
        assert q.items == ("A", "B.C")
        assert q.is_item_query

    @pytest.mark.parametrize(
        "resource",
        ["datastructure", "dataflow", "contentconstraint", "categorisation", "structure"],
    )
    def test_not_an_item_scheme(self, resource: str) -> None:
        with pytest.raises(QuerySyntaxError, match=f"'SEX_T'.*'{resource}'"):
            v1(resource, "ILO", "X", "1.0", "SEX_T")

    def test_all_item_is_no_item_query_anywhere(self) -> None:
        assert v1("datastructure", "ILO", "X", "1.0", "all").items is None

    def test_unserved_item_scheme_is_501_not_140(self) -> None:
        with pytest.raises(NotImplementedYet, match="'hierarchicalcodelist'"):
            v1("hierarchicalcodelist", "ILO", "X", "1.0", "A")

    @pytest.mark.parametrize("item", ["A B", "A,B", ".A", "A..B"])
    def test_invalid_item(self, item: str) -> None:
        with pytest.raises(QuerySyntaxError, match="Invalid item id"):
            v1("codelist", "ILO", "CL_SEX", "1.0", item)


class TestV1Parameters:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("none", set()),
            ("NONE", set()),
            ("parents", {ReferenceScope.PARENTS}),
            ("parentsandsiblings", {ReferenceScope.PARENTSANDSIBLINGS}),
            ("children", {ReferenceScope.CHILDREN}),
            ("descendants", {ReferenceScope.DESCENDANTS}),
            ("all", {ReferenceScope.ALL}),
            ("codelist", {T.CODELIST}),
            ("Dataflow", {T.DATAFLOW}),
            ("contentconstraint", {T.CONTENTCONSTRAINT}),
            ("actualconstraint", {T.CONTENTCONSTRAINT}),
            ("allowedconstraint", {T.CONTENTCONSTRAINT}),
            ("metadataflow", set()),
            ("hierarchicalcodelist", set()),
        ],
    )
    def test_references(self, value: str, expected: set[object]) -> None:
        assert v1("codelist", references=value).references == expected

    @pytest.mark.parametrize(
        ("value", "bad"),
        [
            ("ancestors", "ancestors"),
            ("parents,children", "parents,children"),
            ("dataconstraint", "dataconstraint"),
            ("codelists", "codelists"),
        ],
    )
    def test_invalid_references(self, value: str, bad: str) -> None:
        with pytest.raises(QuerySyntaxError, match=re.escape(f"'{bad}'")) as err:
            v1("codelist", references=value)
        assert "parentsandsiblings" in err.value.detail

    @pytest.mark.parametrize("detail", [d for d in Detail if d is not Detail.RAW])
    def test_detail(self, detail: Detail) -> None:
        assert v1("codelist", detail=detail.value).detail is detail
        assert v1("codelist", detail=detail.value.upper()).detail is detail

    @pytest.mark.parametrize("value", ["raw", "stubs", "allstub"])
    def test_invalid_detail(self, value: str) -> None:
        with pytest.raises(QuerySyntaxError, match=re.escape(f"'{value}'")) as err:
            v1("codelist", detail=value)
        assert "referencepartial" in err.value.detail
        assert "raw" not in err.value.detail.replace(f"'{value}'", "")


class TestV2Paths:
    def test_defaults(self) -> None:
        q = v2(None)
        assert q.api is ApiVersion.V2
        assert q.types == ALL_TYPES
        assert (q.agencies, q.ids, q.items) == (None, None, None)
        assert q.version.terms[0].op is VersionOp.LATEST
        assert (q.references, q.detail, q.as_of) == (frozenset(), Detail.FULL, None)

    def test_wildcards(self) -> None:
        q = v2("*", "*", "*", "*", "*")
        assert q.types == ALL_TYPES
        assert (q.agencies, q.ids, q.items) == (None, None, None)
        assert q.version.terms[0].op is VersionOp.ALL

    def test_comma_lists(self) -> None:
        q = v2("codelist", "ILO,SDMX", "CL_SEX,CL_AGE", "1.0,+", "SEX_T,SEX_F")
        assert (q.agencies, q.ids, q.items) == (
            ("ILO", "SDMX"),
            ("CL_SEX", "CL_AGE"),
            ("SEX_T", "SEX_F"),
        )
        assert [t.op for t in q.version.terms] == [VersionOp.EXACT, VersionOp.STABLE]

    def test_star_in_a_list_is_any(self) -> None:
        assert v2("codelist", "ILO,*").agencies is None

    @pytest.mark.parametrize(
        ("name", "stype"),
        [(t.value, t) for t in T if t is not T.CONTENTCONSTRAINT]
        + [("dataconstraint", T.CONTENTCONSTRAINT)],
    )
    def test_served_types(self, name: str, stype: T) -> None:
        assert v2(name).types == (stype,)

    @pytest.mark.parametrize(
        "name",
        [
            "metadatastructure",
            "metadataflow",
            "process",
            "metadataconstraint",
            "hierarchy",
            "hierarchyassociation",
            "dataconsumerscheme",
            "organisationunitscheme",
            "transformationscheme",
            "rulesetscheme",
            "userdefinedoperatorscheme",
            "customtypescheme",
            "namepersonalisationscheme",
            "vtlmappingscheme",
            "valuelist",
            "structuremap",
            "representationmap",
            "conceptschememap",
            "categoryschememap",
            "organisationschememap",
            "reportingtaxonomymap",
            "metadataproviderscheme",
            "reportingtaxonomy",
            "metadataprovisionagreement",
        ],
    )
    def test_standard_but_unserved_is_501(self, name: str) -> None:
        with pytest.raises(NotImplementedYet, match=re.escape(f"'{name}'")) as err:
            v2(name)
        assert "dataconstraint" in err.value.detail

    @pytest.mark.parametrize(
        "name", ["contentconstraint", "structure", "all", "hierarchicalcodelist"]
    )
    def test_not_a_v2_type_is_140(self, name: str) -> None:
        with pytest.raises(QuerySyntaxError, match=re.escape(f"'{name}'")) as err:
            v2(name)
        assert "dataconstraint" in err.value.detail

    @pytest.mark.parametrize(
        ("agency", "resource_id", "bad"),
        [
            ("ILO+SDMX", None, "ILO+SDMX"),
            ("ILO,", None, ""),
            (None, "CL_SEX+CL_AGE", "CL_SEX+CL_AGE"),
        ],
    )
    def test_invalid_identifiers(
        self, agency: str | None, resource_id: str | None, bad: str
    ) -> None:
        with pytest.raises(QuerySyntaxError, match=re.escape(f"'{bad}'")):
            v2("codelist", agency, resource_id)


class TestV2Items:
    def test_item_query(self) -> None:
        q = v2("categoryscheme", "ILO", "CAT", "+", "A.1,B")
        assert q.items == ("A.1", "B")

    def test_any_type_narrows_to_item_schemes(self) -> None:
        q = v2("*", "ILO", "*", "~", "SEX_T")
        assert q.types == ITEM_SCHEME_TYPES
        assert q.items == ("SEX_T",)

    def test_star_item_is_no_item_query(self) -> None:
        assert v2("dataflow", "ILO", "DF", "1.0", "*").items is None

    @pytest.mark.parametrize("name", ["datastructure", "dataflow", "dataconstraint"])
    def test_not_an_item_scheme(self, name: str) -> None:
        with pytest.raises(QuerySyntaxError, match="'X1'") as err:
            v2(name, "ILO", "X", "1.0", "X1")
        assert "codelist" in err.value.detail


class TestV2Parameters:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("none", set()),
            ("ancestors", {ReferenceScope.ANCESTORS}),
            ("parents,children", {ReferenceScope.PARENTS, ReferenceScope.CHILDREN}),
            (
                "descendants,codelist,conceptscheme",
                {ReferenceScope.DESCENDANTS, T.CODELIST, T.CONCEPTSCHEME},
            ),
            ("dataconstraint", {T.CONTENTCONSTRAINT}),
            ("dataflow,structureset,hierarchy,valuelist", {T.DATAFLOW}),
        ],
    )
    def test_references(self, value: str, expected: set[object]) -> None:
        assert v2("codelist", references=value).references == expected

    @pytest.mark.parametrize(
        ("value", "bad"),
        [
            ("none,children", "none,children"),
            ("contentconstraint", "contentconstraint"),
            ("children,sibling", "sibling"),
            ("children,", ""),
        ],
    )
    def test_invalid_references(self, value: str, bad: str) -> None:
        with pytest.raises(QuerySyntaxError, match=re.escape(f"'{bad}'")):
            v2("codelist", references=value)

    @pytest.mark.parametrize("detail", list(Detail))
    def test_detail(self, detail: Detail) -> None:
        assert v2("codelist", detail=detail.value).detail is detail

    def test_invalid_detail_lists_raw(self) -> None:
        with pytest.raises(QuerySyntaxError, match="'nodata'.*raw"):
            v2("codelist", detail="nodata")

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2024-01-31T12:00:00Z", dt.datetime(2024, 1, 31, 12, tzinfo=dt.UTC)),
            # A '+' in a query string arrives as a space.
            (
                "2024-01-31T12:00:00 01:00",
                dt.datetime(2024, 1, 31, 12, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            ),
        ],
    )
    def test_as_of(self, value: str, expected: dt.datetime) -> None:
        assert v2("codelist", asOf=value).as_of == expected

    def test_invalid_as_of(self) -> None:
        with pytest.raises(QuerySyntaxError, match="'yesterday'"):
            v2("codelist", asOf="yesterday")


AVAILABLE = ["1.0", "1.1", "1.2.0", "2.0.0", "2.1.0-draft"]


class TestVersionSelection:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("*", AVAILABLE),
            ("~", ["2.1.0-draft"]),
            ("+", ["2.0.0"]),
            ("+.0.0", ["2.0.0"]),
            ("1+.0.0", ["2.0.0"]),
            ("*.0", AVAILABLE),
            ("~.0.0", ["2.1.0-draft"]),
            # Exact: 1.0 is 1.0.0, and the other way round.
            ("1.0", ["1.0"]),
            ("1.0.0", ["1.0"]),
            ("1", ["1.0"]),
            ("2.1.0-draft", ["2.1.0-draft"]),
            ("2.1.0", []),
            ("3.0.0", []),
            # Latest stable within a major, or a minor.
            ("1.+.0", ["1.2.0"]),
            ("1.1.+", ["1.1"]),
            ("1.2.+", ["1.2.0"]),
            ("2.+.0", ["2.0.0"]),
            # Latest stable at or above a minimum.
            ("1+.1.0", ["2.0.0"]),
            ("1.1+.0", ["1.2.0"]),
            ("1.2.0+", ["1.2.0"]),
            ("2.1.0+", []),
            ("3+.0.0", []),
            # Latest, drafts included.
            ("1.~", ["1.2.0"]),
            ("2.~.0", ["2.1.0-draft"]),
            ("2.1.~", ["2.1.0-draft"]),
            ("1~.1", ["2.1.0-draft"]),
            ("1.0~", ["1.2.0"]),
            ("1.1~.0", ["1.2.0"]),
            ("2.0.0~", ["2.0.0"]),
            # All, from a minimum.
            ("1.*", ["1.0", "1.1", "1.2.0"]),
            ("2.*.0", ["2.0.0", "2.1.0-draft"]),
            ("1.1*", ["1.1", "1.2.0"]),
            ("1*.1.0", ["1.1", "1.2.0", "2.0.0", "2.1.0-draft"]),
            ("1.2.*", ["1.2.0"]),
            ("1.0.1*", []),
            # OR: results in the order given.
            ("2.0.0,1.0", ["1.0", "2.0.0"]),
            ("+,1.*", ["1.0", "1.1", "1.2.0", "2.0.0"]),
            ("1~.2.0,1.2.0+", ["1.2.0", "2.1.0-draft"]),
        ],
    )
    def test_v2(self, query: str, expected: list[str]) -> None:
        assert VersionSelector.parse_v2(query).select(AVAILABLE) == expected

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("all", AVAILABLE),
            ("latest", ["2.0.0"]),
            (None, ["2.0.0"]),
            ("1.0+1.2.0", ["1.0", "1.2.0"]),
            ("1.0.0", ["1.0"]),
            ("2.1", []),
        ],
    )
    def test_v1(self, query: str | None, expected: list[str]) -> None:
        assert VersionSelector.parse_v1(query).select(AVAILABLE) == expected

    def test_unstable_versions_are_skipped_by_latest_stable(self) -> None:
        available = ["1.0", "1.1"]
        assert VersionSelector.parse_v1("latest").select(available, unstable={"1.1"}) == ["1.0"]
        assert VersionSelector.parse_v2("+").select(available, unstable={"1.1"}) == ["1.0"]
        assert VersionSelector.parse_v2("~").select(available, unstable={"1.1"}) == ["1.1"]

    def test_major_zero_is_never_stable(self) -> None:
        available = ["0.1.0", "0.2"]
        assert VersionSelector.parse_v2("+").select(available) == []
        assert VersionSelector.parse_v2("~").select(available) == ["0.2"]
        assert VersionSelector.parse_v1("latest").select(available) == ["0.2"]

    def test_non_numeric_versions(self) -> None:
        available = ["1.0", "draft"]
        assert VersionSelector.parse_v2("*").select(available) == available
        assert VersionSelector.parse_v2("~").select(available) == ["1.0"]
        assert VersionSelector.parse_v1("all").select(available) == available

    def test_more_than_three_parts_match_exactly(self) -> None:
        selector = VersionSelector.parse_v1("1.2.3.4")
        assert selector.select(["1.2.3", "1.2.3.4"]) == ["1.2.3.4"]

    @pytest.mark.parametrize(
        ("lower", "higher"),
        [
            ("1.0.0-alpha", "1.0.0-alpha.1"),
            ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
            ("1.0.0-alpha.beta", "1.0.0-beta"),
            ("1.0.0-beta", "1.0.0-beta.2"),
            ("1.0.0-beta.2", "1.0.0-beta.11"),
            ("1.0.0-beta.11", "1.0.0-rc.1"),
            ("1.0.0-rc.1", "1.0.0"),
            ("1.9", "1.10"),
            ("1.10.0", "2.0"),
        ],
    )
    def test_precedence(self, lower: str, higher: str) -> None:
        latest = VersionSelector.parse_v2("~")
        assert latest.select([higher, lower]) == [higher]
        assert latest.select([lower, higher]) == [higher]

    @pytest.mark.parametrize(
        ("query", "version", "expected"),
        [
            ("1.+.0", "1.2.0", True),
            ("1.+.0", "1.1", False),
            ("*", "9.9", True),
            ("~", "1.0", False),
        ],
    )
    def test_matches(self, query: str, version: str, expected: bool) -> None:
        assert VersionSelector.parse_v2(query).matches(version, AVAILABLE) is expected

    def test_exact_versions(self) -> None:
        assert VersionSelector.parse_v2("1.0,2.0.0,1.0").exact_versions == ("1.0", "2.0.0")
        assert VersionSelector.parse_v2("1.0,+").exact_versions is None
        assert VersionSelector.parse_v1("latest").exact_versions is None

    @pytest.mark.parametrize(
        ("query", "bad", "hint"),
        [
            ("+.2.3", "+.2.3", "use +.0.0"),
            ("1.+.3", "1.+.3", "use 1.+.0"),
            ("~.2", "~.2", "use ~.0"),
            ("~.2.3", "~.2.3", "use ~.0.0"),
            ("1.~.3", "1.~.3", "use 1.~.0"),
            ("*.2", "*.2", "use *.0"),
            ("1.*.3", "1.*.3", "use 1.*.0"),
            ("+.0", "+.0", "three parts"),
            ("2.3+", "2.3+", "three parts"),
            ("~.0.*", "~.0.*", "at most once"),
            ("3.2*.1+", "3.2*.1+", "at most once"),
            ("3.2+.1+", "3.2+.1+", "at most once"),
            ("0.+.0", "0.+.0", "above 0"),
            ("0+.1.0", "0+.1.0", "above 0"),
            ("1~", "1~", "minor part"),
            ("1.2.3.4", "1.2.3.4", "expected"),
            ("01.0", "01.0", "expected"),
            ("1.0-draft", "1.0-draft", "expected"),
            ("1.0.0+build", "1.0.0+build", "expected"),
            ("latest", "latest", "expected"),
            ("all", "all", "expected"),
            ("", "", "expected"),
            ("1.0,,2.0", "", "expected"),
        ],
    )
    def test_unsupported_v2_syntax(self, query: str, bad: str, hint: str) -> None:
        with pytest.raises(QuerySyntaxError, match=re.escape(f"'{bad}'")) as err:
            VersionSelector.parse_v2(query)
        assert hint in err.value.detail

    def test_query_uses_the_selector(self) -> None:
        q = v2("codelist", "ILO", "CL_SEX", "1.+.0")
        assert q.version == VersionSelector.parse_v2("1.+.0")
        assert q.version.select(AVAILABLE) == ["1.2.0"]
