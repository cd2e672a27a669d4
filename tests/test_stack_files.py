"""Any stack file ends the plan with exit 0, 1 or 2 and, when invalid, one line naming the file.

Stack files are read as the Pulumi CLI reads them (gopkg.in/yaml.v3 into untyped values, keys
parsed by config.ParseKey), so the plan and a real `pulumi up` see the same config.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import config
import plan.__main__ as plan_main
from config.stack_file import StackFileError, read_stack_file
from conftest import ROOT, STACK, sample_config
from plan.evaluate import Evaluation, evaluate

# What pydantic would say in its own words; none of it may reach a user.
_INTERNALS = re.compile(
    r"Input should|pydantic|\b(Stack|Network|Cluster|Gateway|Agic|Workload|Smoke)Config\b|"
    r"\^\[|\\d|Traceback"
)


def _own(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in raw.items() if key.startswith(f"{config.PROJECT}:")}


@pytest.fixture(scope="module")
def cached_evaluations(
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., Evaluation]]:
    """Evaluations by what the program reads: its own namespace (config._raw_project_config)
    and the stack; other namespaces pass through untouched (test_config proves the program
    loads with them). The sample stack's evaluation is the session's `blue`."""
    sample = json.dumps([_own(sample_config("blue")), STACK, None], sort_keys=True)
    cache: dict[str, Evaluation] = {}

    def run(raw: dict[str, Any], stack: str, previous: dict[str, Any] | None = None) -> Evaluation:
        # The facts of the last deployment are an input too (transition.py).
        key = json.dumps([_own(raw), stack, previous], sort_keys=True, default=str)
        if key not in cache:
            cache[key] = (
                request.getfixturevalue("blue")
                if key == sample
                else evaluate(raw, stack, previous_outputs=previous)
            )
        return cache[key]

    yield run


def _then(then: Callable[[Evaluation], Any], evaluation: Evaluation) -> tuple[Evaluation, Any]:
    return evaluation, then(evaluation)


@pytest.fixture
def plan(
    monkeypatch: pytest.MonkeyPatch,
    cached_evaluations: Callable[..., Evaluation],
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """The plan's own entry point in this process; each distinct config is evaluated once."""
    monkeypatch.setattr(
        plan_main,
        "evaluate_both_then",
        lambda then, base, head, stack, head_previous=None, base_previous=None: (
            _then(then, cached_evaluations(base, stack, base_previous)),
            _then(then, cached_evaluations(head, stack, head_previous)),
        ),
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.chdir(ROOT), redirect_stdout(out), redirect_stderr(err):
            code = plan_main.main(list(args))
        return subprocess.CompletedProcess(["plan", *args], code, out.getvalue(), err.getvalue())

    return run


def write(tmp_path: Path, text: str | bytes, name: str = "Pulumi.prod.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def assert_one_error(result: subprocess.CompletedProcess[str], *names: str) -> str:
    """Exit 2 with exactly one error line, the last, naming one of `names` (a file, --stack)."""
    assert result.returncode == 2, result
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == lines[-1:], result.stderr
    assert errors[0].startswith(tuple(f"error: {name}" for name in names)), errors[0]
    assert not _INTERNALS.search(result.stderr), result.stderr
    return errors[0]


# --- malformed files, one by one ----------------------------------------------------------------

_VALID = (
    "config:\n  aks-bluegreen:active: blue\n  aks-bluegreen:access:\n    deployer:\n"
    "      objectId: 00000000-0000-0000-0000-00000000d3b1\n"
)
MALFORMED: dict[str, tuple[str | bytes, str]] = {
    "an integer key": ("config:\n  1: x\n" + _VALID[8:], "key 1 under config is not text"),
    "a boolean key": ("config:\n  true: x\n", "key 'true' under config is not text"),
    "a null key": ("config:\n  ~: x\n", "key 'null' under config is not text"),
    "a non-text key deep inside a value": (
        _VALID + "  aks-bluegreen:clusters:\n    blue:\n      3: x\n",
        "key 3 under config.aks-bluegreen:clusters.blue is not text",
    ),
    "a key written twice": (_VALID + "  aks-bluegreen:active: green\n", "is written twice"),
    "a list as key": ("config:\n  ? [a, b]\n  : x\n", "a key that is a list or mapping"),
    "config that is a list": ("config:\n  - a\n", "'config:' must be a mapping"),
    "a document that is text": ("hello\n", "a stack file is a mapping"),
    "a tab": ("config:\n\tx: 1\n", "not valid YAML at line 2"),
    "not UTF-8": (b"\xff\xfe config", "is not UTF-8 text"),
    "a key with two namespaces": (
        "config:\n  aks-bluegreen:network:vnetCidr: 10.0.0.0/8\n",
        "aks-bluegreen:network:vnetCidr is not a config key the Pulumi CLI reads",
    ),
    "an alias that contains itself": ("config: &a\n  x: *a\n", "contains itself through an alias"),
    "an unknown tag": (_VALID + "  aks-bluegreen:location: !foo bar\n", "not valid YAML"),
    "a bad explicit integer": (_VALID + "  aks-bluegreen:location: !!int x\n", "is not an integer"),
    "an encrypted value": ("config:\n  aks-bluegreen:active:\n    secure: AAAB\n", "is encrypted"),
    "an encrypted value inside an object": (
        _VALID + "  aks-bluegreen:agic:\n    namespace:\n      secure: AAAB\n",
        "aks-bluegreen:agic.namespace is encrypted",
    ),
    "a null value": ("config:\n  aks-bluegreen:active:\n", "aks-bluegreen:active: '' is not"),
    "a null section": (
        _VALID + "  aks-bluegreen:network:\n",
        "aks-bluegreen:network: has no value",
    ),
    "a null inside a section": (
        _VALID + "  aks-bluegreen:network:\n    vnetCidr: ~\n",
        "aks-bluegreen:network.vnetCidr: has no value",
    ),
    "a date where a range belongs": (
        _VALID + "  aks-bluegreen:network:\n    vnetCidr: 2024-01-01\n",
        "aks-bluegreen:network.vnetCidr: '2024-01-01' is not an IPv4 range",
    ),
    "a set where a list belongs": (
        _VALID + "  aks-bluegreen:workloads: !!set {a}\n",
        'aks-bluegreen:workloads: {"a": null} must be a list',
    ),
    "a cidr with host bits set": (
        _VALID + "  aks-bluegreen:network:\n    vnetCidr: 10.224.0.1/11\n",
        "'10.224.0.1/11' has host bits set: a range starts at its network address; "
        "write 10.224.0.0/11",
    ),
    "a version written as a number": (
        _VALID + "  aks-bluegreen:clusters:\n    blue: {kubernetesVersion: 1.30}\n"
        "    green: {kubernetesVersion: '1.31'}\n",
        "1.3 must be text; quote it",
    ),
    "a gateway sku that is not offered": (
        _VALID + "  aks-bluegreen:gateway:\n    sku: Standard\n",
        "aks-bluegreen:gateway.sku: 'Standard' is not offered; use Standard_v2 or WAF_v2",
    ),
    "an unknown key with odd characters": (
        'config:\n  "aks-bluegreen:a\\nb": 1\n',
        'aks-bluegreen:"a\\nb": unknown key',
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_stack_file_exits_2_with_one_line_naming_file_and_key(
    case: str, tmp_path: Path, plan: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    text, says = MALFORMED[case]
    path = write(tmp_path, text)
    error = assert_one_error(plan(str(path), str(path)), str(path))
    assert says in error, error


def test_yaml_reads_as_the_pulumi_cli_reads_it(tmp_path: Path) -> None:
    # yaml.v3 into untyped values: YAML 1.2 booleans, timestamps kept as written, !!binary as
    # the text it encodes, a !!set as a mapping; keys without a namespace are the project's.
    text = """config:
  enabled: yes
  aks-bluegreen:config:location: westeurope
  when: 2024-1-1
  at: 2024-01-01T10:00:00Z
  blob: !!binary aGVsbG8=
  tags: !!set {a, b}
  octal: 0755
  hex: 0x1F
  big: 1_000
  exp: 1e3
  port: 80:80
  azure-native:location: westeurope
"""
    stack = read_stack_file(write(tmp_path, text))
    p = "aks-bluegreen:"
    assert stack.config == {
        f"{p}enabled": "yes",
        f"{p}location": "westeurope",
        f"{p}when": "2024-1-1",
        f"{p}at": "2024-01-01T10:00:00Z",
        f"{p}blob": "hello",
        f"{p}tags": {"a": None, "b": None},
        f"{p}octal": 0o755,
        f"{p}hex": 31,
        f"{p}big": 1000,
        f"{p}exp": 1000.0,
        f"{p}port": "80:80",
        "azure-native:location": "westeurope",
    }
    assert stack.foreign_keys == ("azure-native:location",)


def test_keys_of_other_namespaces_are_ignored_and_said_so(
    tmp_path: Path, plan: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    raw = {**sample_config("blue"), "azure-native:location": "westeurope", "other:key": [1]}
    path = write(tmp_path, yaml.safe_dump({"config": raw}))
    result = plan(str(path), str(path), "--no-policies")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"note: {path}: ignored azure-native:location, other:key: this program reads only "
        "aks-bluegreen:<key> (the Pulumi CLI hands other namespaces to their own provider or "
        "project)"
    ]


@pytest.mark.parametrize(
    ("name", "stack", "names", "rule"),
    [
        ("Pulumi.prod.eu.yaml", None, "Pulumi.prod.eu.yaml (its name gives the stack name", "'.'"),
        ("Pulumi.prod.yaml", "Prod", "--stack Prod", "lower-case letters"),
        ("Pulumi.prod.yaml", "p" * 23, f"--stack {'p' * 23}", "at most 22 characters"),
    ],
)
def test_invalid_stack_name_names_the_file_or_the_option_and_the_rule(
    tmp_path: Path,
    plan: Callable[..., subprocess.CompletedProcess[str]],
    name: str,
    stack: str | None,
    names: str,
    rule: str,
) -> None:
    path = write(tmp_path, _VALID, name)
    args = [str(path), str(path), *(["--stack", stack] if stack else [])]
    error = assert_one_error(plan(*args), names if stack else str(tmp_path / names))
    assert rule in error and config.AKS_NAMING in error
    assert "namePrefix:" not in error


# --- every stack file -------------------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=10)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    _text,
    st.dates(),
    st.datetimes(),
    st.binary(max_size=6),
    st.sampled_from(
        ["blue", "green", "10.240.0.1/16", "1.33", "Standard_B2s", "yes", "0777", "1:30", "~"]
    ),
)
_keys = st.one_of(_text, st.integers(), st.booleans(), st.none(), st.dates())
_values = st.recursive(
    _scalars | st.sets(st.text(max_size=3), max_size=2),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.one_of(_keys, st.sampled_from(["blue", "green", "secure"])), inner, max_size=3
        )
    ),
    max_leaves=6,
)
_config_keys = st.one_of(
    st.sampled_from(
        [
            "aks-bluegreen:clusters",
            "clusters",
            "aks-bluegreen:network",
            "aks-bluegreen:gateway",
            "aks-bluegreen:workloads",
            "namePrefix",
            "aks-bluegreen:config:location",
            "azure-native:location",
            "other:key",
            "a:b:c",
            ":",
            "",
        ]
    ),
    _keys,
)
_SAMPLE = sample_config("blue")
_documents = st.one_of(
    st.fixed_dictionaries(
        {
            "config": st.one_of(
                # The sample stack with hostile entries added or put in place of its own.
                st.dictionaries(_config_keys, _values, max_size=3).map(
                    lambda entries: {**_SAMPLE, **entries}
                ),
                _values,
            )
        },
        optional={"secretsprovider": _text, "environment": _values},
    ),
    _values,
)


def _dump(document: Any) -> str | None:
    try:
        return yaml.safe_dump(document, allow_unicode=True)
    except yaml.YAMLError:
        return None


_files = st.one_of(
    _documents.map(_dump).filter(lambda text: text is not None),
    _text,
    st.binary(max_size=30),
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=_files,
    name=st.sampled_from(["Pulumi.prod.yaml", "Pulumi.Prod.yaml", "Pulumi.a.b.yaml"]),
    stack=st.sampled_from([None, "prod", "Prod_1", "p" * 40]),
)
def test_any_stack_file_exits_0_1_or_2_and_an_invalid_one_says_which_file(
    tmp_path: Path,
    plan: Callable[..., subprocess.CompletedProcess[str]],
    text: str | bytes,
    name: str,
    stack: str | None,
) -> None:
    path = write(tmp_path, text, name)
    # Policies see only the evaluation, which is the sample stack's whenever a file is valid.
    result = plan(str(path), str(path), "--no-policies", *(["--stack", stack] if stack else []))
    assert result.returncode in (0, 1, 2), result
    assert not _INTERNALS.search(result.stderr), result.stderr
    lines = result.stderr.splitlines()
    assert all(
        line.startswith(("note: ", "warning: ", "error: ", "refused: ")) for line in lines
    ), lines
    if result.returncode == 2:
        # The file, or the stack name: from --stack, or from the file's name.
        assert_one_error(result, str(path), *([f"--stack {stack}"] if stack else []))


def test_reader_refuses_by_message_never_by_crash(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match="no such stack file"):
        read_stack_file(tmp_path / "Pulumi.none.yaml")
    with pytest.raises(StackFileError, match="cannot be read"):
        read_stack_file(tmp_path)
    nested = "config:\n  x: " + "[" * 150 + "]" * 150 + "\n"
    with pytest.raises(StackFileError, match="nests deeper than 100 levels"):
        read_stack_file(write(tmp_path, nested))
    assert read_stack_file(write(tmp_path, "")).config == {}
    assert datetime.date  # the dates above stay text: nothing in the config is a date
