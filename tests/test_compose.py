"""compose.yaml: valid against the Compose Specification's JSON schema (the copy check-jsonschema vendors),
and wired as the README says: the services the web needs, the migrations waited for, healthchecks on every
long-running service, named volumes, and every variable it reads documented in .env.example."""

from __future__ import annotations

import json
import re
import shlex
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

import config

ROOT = Path(__file__).resolve().parent.parent
ONE_SHOT = {"migrate", "createbuckets"}
LONG_RUNNING = {"web", "worker", "postgres", "redis", "minio"}
# Compose's own interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ escapes.
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(?::?[-?+])[^}]*)?\}")
# Set in compose.yaml for something other than the app's config.py.
NOT_APP_SETTINGS = {"PROMETHEUS_MULTIPROC_DIR", "GUNICORN_CMD_ARGS"}


@pytest.fixture(scope="module")
def text() -> str:
    return (ROOT / "compose.yaml").read_text()


@pytest.fixture(scope="module")
def compose(text: str) -> dict:
    return yaml.safe_load(text)  # YAML merge keys (<<: *app) resolved, as Compose does


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def env_example() -> dict[str, tuple[str, list[str]]]:
    """``.env.example``: each variable's value and the comment lines just above it (or above its group)."""
    found: dict[str, tuple[str, list[str]]] = {}
    comments: list[str] = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("#"):
            comments.append(line.lstrip("# ").strip())
        elif "=" in line:
            name, _sep, value = line.partition("=")
            found[name.strip()] = (value.strip().strip('"'), [c for c in comments if c and not c.startswith("--")])
        elif not line.strip():
            comments = []
    return found


def compose_schema() -> dict:
    source = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    return json.loads(source.read_text())


def test_compose_yaml_is_valid_against_the_compose_specification(compose):
    schema = compose_schema()
    assert "compose" in schema.get("$id", "") + schema.get("title", "").lower()
    validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_check_catches_a_mistake(compose):
    # The same validation refuses a file with a typo: it is not a check that cannot fail.
    schema = compose_schema()
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["worker"]["healtcheck"] = {"test": ["CMD", "true"]}
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert len(list(validator.iter_errors(broken))) >= 2


def test_every_service_the_web_needs_is_there(services):
    assert set(services) == LONG_RUNNING | ONE_SHOT
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:")
    assert services["minio"]["image"].startswith("minio/minio")
    assert services["createbuckets"]["image"].startswith("minio/mc")
    web = services["web"]
    env = web["environment"]
    assert env["INCUBATOR_ENV"] == "production"
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["STORAGE_URL"].startswith("s3://") and env["S3_ENDPOINT_URL"] == "http://minio:9000"
    for name in ("web", "worker", "migrate"):
        assert services[name]["build"] == "." and services[name]["image"] == web["image"]  # one image
    # the web, the worker and the migrations are given the same app settings
    shared = {k: v for k, v in env.items() if k not in NOT_APP_SETTINGS}
    for name in ("worker", "migrate"):
        assert {k: v for k, v in services[name]["environment"].items() if k != "METRICS_PORT"} == shared


def test_the_migrations_run_first_and_are_waited_for(services):
    assert services["migrate"]["command"] == ["flask", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["createbuckets"]["condition"] == "service_completed_successfully"
        assert needs["redis"]["condition"] == "service_healthy"
        assert needs["postgres"]["condition"] == "service_healthy"
    assert services["createbuckets"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert "mc mb --ignore-existing" in " ".join(services["createbuckets"]["command"])


def test_every_long_running_service_has_a_healthcheck(services):
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
        assert services[name]["restart"] == "unless-stopped", name
    for name in ONE_SHOT:
        assert services[name]["restart"] == "no"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])  # ready: database, Redis, storage


def test_data_lives_in_named_volumes(compose, services):
    declared = set(compose["volumes"])
    used = {spec.split(":")[0] for service in services.values() for spec in service.get("volumes", [])}
    assert used == declared == {"postgres-data", "redis-data", "minio-data"}


def test_every_variable_used_is_documented_in_env_example(text):
    documented = env_example()
    used = set(VARIABLE.findall(text))
    assert used, "compose.yaml reads its settings from .env"
    assert sorted(used - set(documented)) == []
    assert sorted(set(documented) - used) == []  # nothing in .env.example that the stack ignores
    for name, (_value, comments) in documented.items():
        assert comments, f"{name} has no comment in .env.example"


def test_the_variable_pattern_sees_every_form():
    assert VARIABLE.findall("${A} ${B:-x} ${C-y} ${D:?err} ${E?e} $${F} ${G:+z}") == ["A", "B", "C", "D", "E", "G"]


def test_env_example_holds_no_real_secret():
    documented = env_example()
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert "change-me" in documented[name][0]
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "METRICS_TOKEN", "MAIL_PASSWORD"):
        assert documented[name][0] == ""
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_app_settings_given_are_settings_the_app_reads(services):
    for name in ("web", "worker"):
        for key in services[name]["environment"]:
            assert key in NOT_APP_SETTINGS or hasattr(config.Config, key) or key == "INCUBATOR_ENV", (name, key)


def test_the_stops_are_graceful_within_the_grace_period(services):
    def seconds(value: str) -> float:
        assert value.endswith("s")
        return float(value[:-1])

    web_grace = seconds(services["web"]["stop_grace_period"])
    assert config.graceful_timeout < web_grace
    command = services["worker"]["command"]
    assert command[:2] == ["huey_consumer", "incubator.worker.huey"]
    flags = dict(zip(command[2::2], command[3::2], strict=True))
    assert flags["--graceful-signal"] == "TERM"  # docker stop sends SIGTERM: let the running jobs finish
    assert float(flags["--shutdown-timeout"]) < seconds(services["worker"]["stop_grace_period"])


def test_the_web_listens_where_its_port_and_healthcheck_look(services):
    args = shlex.split(services["web"]["environment"]["GUNICORN_CMD_ARGS"])
    assert args[args.index("--bind") + 1] == "0.0.0.0:8000"
    assert all(str(port).endswith(":8000") for port in services["web"]["ports"])
    assert "http://127.0.0.1:8000/readyz" in " ".join(services["web"]["healthcheck"]["test"])
