"""The sample stacks and the project file agree with the config model."""

from __future__ import annotations

import yaml
from pydantic.alias_generators import to_camel

import config
from conftest import ROOT


def _config(name: str) -> dict[str, object]:
    return yaml.safe_load((ROOT / name).read_text())["config"]


def test_sample_stacks_differ_only_in_active() -> None:
    blue, green = _config("Pulumi.blue.yaml"), _config("Pulumi.green.yaml")
    assert blue.pop("aks-bluegreen:active") == "blue"
    assert green.pop("aks-bluegreen:active") == "green"
    assert blue == green


def test_project_file_declares_exactly_the_required_keys_and_describes_the_others() -> None:
    # The Pulumi CLI refuses a stack that lacks any key the project declares without a default
    # ("Stack 'e2e' is missing configuration values 'breakGlass' and 'smoke'", seen under the
    # real CLI by bin/e2e; pulumi pkg/v3/workspace/config.go
    # ValidateStackConfigAndApplyProjectConfig), so declaring an optional key makes it required.
    text = (ROOT / "Pulumi.yaml").read_text()
    project = yaml.safe_load(text)
    assert project["name"] == config.PROJECT
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    fields = config.StackConfig.model_fields
    required = {to_camel(name) for name, field in fields.items() if field.is_required()}
    assert set(project["config"]) == required
    for key, spec in project["config"].items():
        assert spec["description"], key
        # The attributes and types the Pulumi CLI accepts in a project config declaration;
        # objects are declared untyped, as the CLI has no object type to declare.
        assert set(spec) <= {"type", "description", "items", "default", "secret", "value"}, key
        assert spec.get("type", "string") in {"string", "integer", "boolean", "array"}, key
        # Defaults live in the config model only: a default here would be applied by the CLI
        # but not by the offline plan.
        assert "default" not in spec, key
    for key in set(config.CONFIG_KEYS) - required:
        assert f"\n#   {key}: " in text, f"Pulumi.yaml describes no optional key {key}"
