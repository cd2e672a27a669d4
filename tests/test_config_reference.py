"""docs/configuration.md and Pulumi.yaml's `config:` are what the config model generates."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

import config
from config.model import StackConfig
from conftest import ROOT
from scripts import config_reference
from scripts.config_reference import COMMAND, project_file, reference, rows


def test_configuration_reference_is_the_generated_text() -> None:
    written = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert written == reference(), f"docs/configuration.md is out of date: run {COMMAND}"


def test_project_file_config_descriptions_are_the_generated_text() -> None:
    written = (ROOT / "Pulumi.yaml").read_text(encoding="utf-8")
    assert written == project_file(written), f"Pulumi.yaml's config: is out of date: run {COMMAND}"


def test_reference_lists_every_key_of_every_model_once() -> None:
    keys = [row.key for row in rows()]
    assert len(keys) == len(set(keys))
    assert [k for k in keys if "." not in k and "[]" not in k] == list(config.CONFIG_KEYS)
    leaves = {k.rsplit(".", 1)[-1].removeprefix("[]") for k in keys}

    def aliases(model: type[BaseModel]) -> set[str]:
        found = set()
        for name, info in model.model_fields.items():
            found.add(info.alias or name)
            inner, _ = config_reference._nested(info.annotation)
            if inner is not None:
                found |= aliases(inner)
        return found

    assert aliases(StackConfig) == {k.split("[].")[-1] for k in leaves}


def test_reference_shows_the_defaults_the_model_applies() -> None:
    by_key = {row.key: row for row in rows()}
    defaults = config.parse({"active": "blue", "access": {"deployer": {"objectId": _OBJECT_ID}}})
    assert by_key["gateway.capacity"].default == f"`{defaults.gateway.capacity}`"
    assert by_key["clusters.<blue|green>.kubernetesVersion"].default.startswith(
        f"blue: `{defaults.clusters['blue'].kubernetes_version}`, "
        f"green: `{defaults.clusters['green'].kubernetes_version}`"
    )
    assert by_key["cutover.timeoutSeconds"].limits == "60 to 3600"
    assert by_key["clusters.<blue|green>.nodeCount"].limits.startswith("2 to 1000 (")


def test_a_field_without_a_description_stops_the_generator() -> None:
    class Undocumented(BaseModel):
        model_config = ConfigDict(use_attribute_docstrings=True)
        documented: int = 1
        """Has one."""
        bare: int = 2

    with pytest.raises(SystemExit, match=r"Undocumented\.bare has no docstring"):
        list(config_reference._walk(Undocumented, "", None, 0))


_OBJECT_ID = "11111111-2222-3333-4444-555555555555"
