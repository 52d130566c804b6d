"""Every structure answer, in every format, against the official SDMX-ML XSDs and SDMX-JSON
schemas: each dataflow with references=all, each DSD, each codelist and concept scheme, and
the other artefact types served. SDMX-ML 2.1 and SDMX-JSON 1.0 are asked of REST v1 (their
API), SDMX-ML 3.0 and SDMX-JSON 2.0 of REST v2."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.conformance.conftest import FORMATS, Format, SchemaCheck, catalogue, fetch

pytestmark = pytest.mark.conformance

CAT = catalogue()


@dataclass(frozen=True)
class Query:
    label: str
    v1: str
    v2: str

    def path(self, fmt: Format) -> str:
        return self.v1 if fmt.name in ("sdmx-ml-2.1", "sdmx-json-1.0") else self.v2


def _queries() -> list[Query]:
    queries = [
        Query(
            f"{flow_id}-references-all",
            f"/rest/dataflow/ILO/{flow_id}/latest?references=all",
            f"/rest/v2/structure/dataflow/ILO/{flow_id}/~?references=all",
        )
        for flow_id in sorted(CAT.flows)
    ]
    queries += [
        Query(
            d, f"/rest/datastructure/ILO/{d}/latest", f"/rest/v2/structure/datastructure/ILO/{d}/~"
        )
        for d in sorted(CAT.dsds)
    ]
    for scheme in CAT.codelist_files:
        kind = scheme.kind.lower()
        queries.append(
            Query(
                scheme.id,
                f"/rest/{kind}/ILO/{scheme.id}/latest",
                f"/rest/v2/structure/{kind}/ILO/{scheme.id}/~",
            )
        )
    for v1, v2 in [
        ("categoryscheme/ILO/all/latest", "categoryscheme/ILO/*/~"),
        ("categorisation/ILO/all/latest", "categorisation/ILO/*/~"),
        ("contentconstraint/ILO/all/latest", "dataconstraint/ILO/*/~"),
        ("provisionagreement/ILO/all/latest", "provisionagreement/ILO/*/~"),
        ("dataproviderscheme/ILO/DATA_PROVIDERS/1.0", "dataproviderscheme/ILO/DATA_PROVIDERS/1.0"),
        ("agencyscheme/SDMX/AGENCIES/1.0", "agencyscheme/SDMX/AGENCIES/1.0"),
    ]:
        queries.append(Query(v1.split("/", 1)[0], f"/rest/{v1}", f"/rest/v2/structure/{v2}"))
    return queries


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("query", _queries(), ids=lambda q: q.label)
def test_valid_against_official_schema(
    http: httpx.Client, schema_check: SchemaCheck, query: Query, fmt: Format
) -> None:
    assert schema_check(fetch(http, query.path(fmt), fmt).content, fmt) > 0
