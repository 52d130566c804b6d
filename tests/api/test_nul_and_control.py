"""Control characters, NUL above all: PostgreSQL's text cannot hold U+0000 and XML 1.0 cannot
carry U+0000 to U+001F (tab, line feed and carriage return aside), so no value may hold one.
An upload with one is refused with a report and writes nothing; a query with a NUL answers
400. Found by a newcomer's run on PostgreSQL (COPY failed: 500)."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import Env
from tests.api.test_data_query import A05, CSV20
from tests.api.test_upload import csv as message
from tests.api.test_upload import problems, row

JSON_ERROR = "application/vnd.sdmx.structure+json;version=2.0.0"
JSON_DATA = "application/vnd.sdmx.data+json;version=2.0.0"


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1f"], ids=["NUL", "SOH", "US"])
def test_an_upload_with_a_control_character_is_refused_whole(env: Env, char: str) -> None:
    assert env.post(message(row(year="2019"))).status_code == 201
    before = env.current()
    bad = message(row(year="2020"), row(year="2021", source=f"LF{char}S"))
    response = env.post(bad)
    assert response.status_code == 422, response.text[:300]
    found = problems(response)
    assert [p["rule"] for p in found] == ["control_character"]
    assert found[0]["component"] == "SOURCE"
    assert env.current() == before  # nothing written, not even the good row


def test_an_sdmx_json_upload_with_a_nul_is_refused(env: Env) -> None:
    """SDMX-JSON can spell U+0000 (``\\u0000``): the same refusal."""
    assert env.post(message(row(year="2019"))).status_code == 201
    before = env.current()
    exported = env.client.get(A05, headers={"Accept": JSON_DATA})
    assert exported.status_code == 200
    doc = exported.json()
    text = json.dumps(doc)
    assert '"LFS"' in text
    bad = text.replace('"LFS"', '"L\\u0000FS"').encode()
    response = env.post(bad, content_type=JSON_DATA)
    assert response.status_code == 422, response.text[:300]
    assert {p["rule"] for p in problems(response)} == {"control_character"}
    assert env.current() == before


@pytest.mark.parametrize(
    "url",
    [
        A05 + "/THA%00",
        A05 + "?c%5BSOURCE%5D=co:%00",
        A05 + "?updatedAfter=2020-01-01T00:00:00%00",
        "/rest/v2/submissions?provider=%00",
        "/rest/v2/submissions?dataflow=ILO:DF_ILMS_A05(1.0)%00",
        "/rest/dataflow/ILO/DF%00",
    ],
)
def test_a_query_with_a_nul_answers_400(env: Env, url: str) -> None:
    for accept, kind in ((JSON_ERROR, "json"), ("application/xml", "xml")):
        response = env.client.get(
            url, headers={"Accept": accept, "Authorization": f"Bearer {env.admin}"}
        )
        assert response.status_code == 400, (url, response.text[:300])
        assert kind in response.headers["content-type"]
        assert "NUL" in response.text
        assert response.headers["access-control-allow-origin"] == "*"


def test_tabs_and_line_breaks_stay_allowed(env: Env) -> None:
    response = env.post(message(row(year="2020", source='"LFS\tround 2"')))
    assert response.status_code == 201, response.text[:300]
    found = env.client.get(A05, headers={"Accept": CSV20})
    assert "LFS\tround 2" in found.text
