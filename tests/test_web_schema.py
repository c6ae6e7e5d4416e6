"""The web API under schemathesis: every operation of its OpenAPI spec, fed valid and
invalid data in-process (the ASGI app, no live server), a bounded number of examples.
Every answer must be below 500, conform to the spec (status, content type, body
schema), and every error must be one line of JSON, ``{"error": "..."}``."""

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")
schemathesis = pytest.importorskip("schemathesis")
from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from kmseg.web import create_app  # noqa: E402

from images import encoded  # noqa: E402
from test_web_api import quadrants  # noqa: E402

#: Examples per operation (10 operations): the test stays within about a minute on 2 cores.
EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]

APP = create_app(cache_mb=64, max_pixels=1_000_000, max_results=2)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture
def real_id():
    """An upload that exists: most generated cases are pointed at it, so that the
    operations behind the id (segment, views, downloads, elbow) run, not only their 404."""
    with TestClient(APP) as client:
        r = client.post("/api/images", files={"file": ("q.png", encoded(quadrants(h=12, w=16)), "image/png")})
        assert r.status_code == 200, r.text
        return r.json()["id"]


@pytest.fixture
def real_job():
    """A progress record that exists, for the cases that name one."""
    with TestClient(APP) as client:
        r = client.post("/api/jobs")
        assert r.status_code == 201, r.text
        return r.json()["id"]


def point_at(case, real_id, real_job):
    """Replace a generated id by the real one in two cases out of three (deterministic)."""

    def pick(value, real):
        return real if isinstance(value, str) and len(value) % 3 != 2 else value

    for where, key, real in ((case.path_parameters, "image_id", real_id), (case.query, "id", real_id),
                             (case.body, "id", real_id), (case.path_parameters, "job_id", real_job),
                             (case.query, "job", real_job), (case.body, "job", real_job)):
        if isinstance(where, dict) and key in where:
            where[key] = pick(where[key], real)


def test_the_spec_has_every_operation():
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert operations == {
        ("GET", "/api/info"), ("POST", "/api/images"), ("POST", "/api/sample"),
        ("GET", "/api/images/{image_id}"), ("POST", "/api/segment"), ("GET", "/api/elbow"),
        ("GET", "/api/images/{image_id}/view/{view}"), ("GET", "/api/images/{image_id}/download/{file}"),
        ("POST", "/api/jobs"), ("GET", "/api/jobs/{job_id}"),
    }


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_fuzzed(case, real_id, real_job):
    point_at(case, real_id, real_job)
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/json"), response.headers
        body = response.json()
        assert set(body) == {"error"} and isinstance(body["error"], str), body
        message = body["error"]
        assert message and "\n" not in message and "Traceback" not in message, message
        if response.status_code == 503:
            assert response.headers["retry-after"][0].isdigit()
    case.validate_response(response, checks=CHECKS)
