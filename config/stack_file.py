"""Reads a Pulumi stack file (`Pulumi.<stack>.yaml`) into the config map the CLI would pass.

The Pulumi CLI reads stack files with Go's gopkg.in/yaml.v3 into untyped values, then keys each
entry of `config:` (pulumi sdk/go/common/workspace/loaders.go LoadProjectStackBytes,
sdk/go/common/resource/config/key.go ParseKey, object.go unmarshalObject). PyYAML reads YAML
1.1, which differs where it matters here, so the reader below follows yaml.v3 instead: only
true/false are booleans (`yes` and `on` stay text), dates and times stay the text they were
written as, `!!binary` is the text it encodes, and a `!!set` is a mapping with empty values.
Anything the CLI would refuse (non-text keys, malformed keys, a `config:` that is no mapping) is
refused here with one message naming the file and the key.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from config import PROJECT, printable_key


class StackFileError(Exception):
    pass


@dataclass(frozen=True)
class StackFile:
    """The config entries the CLI would hand to programs, keyed `namespace:name`."""

    path: Path
    config: dict[str, Any]
    # Keys of other namespaces (providers', other projects'): the CLI passes them on, this
    # program reads none of them.
    foreign_keys: tuple[str, ...] = field(default=())
    # Encrypted values of other namespaces: left out, as only the stack's secrets provider can
    # read them and this program reads none of them.
    foreign_secrets: tuple[str, ...] = field(default=())
    # ESC environments the file imports (its `environment:`): the CLI merges their
    # `pulumiConfig` into the config, which no file here shows.
    environments: tuple[str, ...] = field(default=())
    # Whether the file has a `config:` at all; without one every value is the program's default.
    has_config: bool = True


# --- YAML the way yaml.v3 reads it into untyped values ------------------------------------------

_MAX_DEPTH = 100


class _CliYamlLoader(yaml.SafeLoader):
    """SafeLoader with yaml.v3's implicit types (its resolve.go) instead of YAML 1.1's."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # yaml.v3 refuses documents nested too deep; PyYAML's recursive composer would exhaust
        # Python's stack instead.
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"it nests deeper than {_MAX_DEPTH} levels", None
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # yaml.v3 refuses a key written twice in one mapping; PyYAML would keep the last.
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a key that is a list or mapping", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is written twice", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


_CliYamlLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:int",
        r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$",
        "-+0123456789",
    ),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^<<$", "<"),
):
    _CliYamlLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    try:
        if digits[:2] in ("0b", "0o", "0x"):
            return sign * int(digits, 0)
        # yaml.v3 still reads YAML 1.1 octals such as 0755.
        if len(digits) > 1 and digits.startswith("0") and set(digits) <= set("01234567"):
            return sign * int(digits, 8)
        return sign * int(digits, 10)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not an integer", node.start_mark
        ) from None


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).replace("_", "").lower()
    if text.lstrip("+-") == ".inf":
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a number", node.start_mark
        ) from None


def _construct_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    # yaml.v3 decode.go: "It looks like a timestamp but for backward compatibility reasons we set
    # it as a string" when the target is untyped, as the CLI's is.
    return loader.construct_scalar(node)


def _construct_binary(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    # yaml.v3 decodes !!binary into an untyped value as the string of the decoded bytes.
    try:
        data = base64.b64decode(loader.construct_scalar(node), validate=False)
        return data.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise yaml.constructor.ConstructorError(
            None, None, "!!binary data that is not UTF-8 text", node.start_mark
        ) from None


def _construct_set(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    # yaml.v3 has no set type: a !!set is the mapping it is written as, every value null.
    return loader.construct_mapping(node)


_CliYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_CliYamlLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_CliYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
_CliYamlLoader.add_constructor("tag:yaml.org,2002:binary", _construct_binary)
_CliYamlLoader.add_constructor("tag:yaml.org,2002:set", _construct_set)

# yaml.v3 refuses documents that expand too far through aliases; so does this reader.
_MAX_NODES = 100_000


def _load_yaml(path: Path, data: bytes | None = None) -> Any:
    try:
        data = path.read_bytes() if data is None else data
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such stack file") from None
    except OSError as err:
        raise StackFileError(f"{path}: cannot be read ({err.strerror or err})") from None
    try:
        # The CLI strips a UTF-8 byte order mark (loaders.go readFileStripUTF8BOM).
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise StackFileError(f"{path}: is not UTF-8 text (byte {err.start})") from None
    try:
        return yaml.load(text, Loader=_CliYamlLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(err.problem or err.context or "invalid").split())
        raise StackFileError(f"{path}: not valid YAML{where}: {problem}") from None
    except yaml.YAMLError as err:
        raise StackFileError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None


def _check_keys(path: Path, value: Any, where: str, budget: list[int], seen: set[int]) -> None:
    """The CLI accepts only text keys, at any depth (workspace/project.go
    SimplifyMarshalledValue: "expected only string keys"); aliases may not loop."""
    budget[0] -= 1
    if budget[0] < 0:
        raise StackFileError(f"{path}: expands to more than {_MAX_NODES} values through aliases")
    if not isinstance(value, dict | list):
        return
    if id(value) in seen:
        raise StackFileError(f"{path}: {where or 'the document'} contains itself through an alias")
    seen.add(id(value))
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(value, dict) and not isinstance(key, str):
            shown = "null" if key is None else str(key).lower() if isinstance(key, bool) else key
            inside = f" under {printable_key(where)}" if where else ""
            raise StackFileError(
                f"{path}: key {shown!r}{inside} is not text; the Pulumi CLI takes only text "
                f'keys: quote it ("{shown}")'
            )
        child = f"{where}.{key}" if isinstance(value, dict) else f"{where}[{key}]"
        _check_keys(path, item, child.lstrip("."), budget, seen)
    seen.discard(id(value))


# --- the config map -----------------------------------------------------------------------------


def _qualified(path: Path, key: str, project: str) -> str:
    # key.go ParseKey: `<namespace>:<name>`, or the old `<namespace>:config:<name>`; a key
    # without a namespace is the project's (loaders.go stackConfigNamespacedWithProject).
    parts = key.split(":")
    if len(parts) == 1:
        return f"{project}:{key}"
    if len(parts) == 2:
        return key
    if len(parts) == 3 and parts[1] == "config":
        return f"{parts[0]}:{parts[2]}"
    raise StackFileError(
        f"{path}: {printable_key(key)} is not a config key the Pulumi CLI reads; write "
        f"<namespace>:<name>, e.g. {project}:{parts[-1] or 'active'}"
    )


def _secret_under(value: Any, where: str) -> str | None:
    """The key of the first encrypted value (`{secure: ...}`) at or under `value`."""
    if isinstance(value, dict):
        if set(value) == {"secure"} and isinstance(value["secure"], str):
            return where
        for key, item in value.items():
            found = _secret_under(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _secret_under(item, f"{where}[{index}]")
            if found:
                return found
    return None


def _environments(path: Path, value: Any) -> tuple[str, ...]:
    """The ESC environments `environment:` imports: a list of names, or an inline definition
    whose `imports:` lists them (pulumi.com, "Stack settings file reference")."""
    if value is None:
        return ()
    if isinstance(value, dict):
        imports = value.get("imports") or []
        names = [str(item) for item in imports] if isinstance(imports, list) else []
        return tuple(names) or ("(an inline environment)",)
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    if isinstance(value, str):
        return (value,)
    raise StackFileError(f"{path}: 'environment:' must list ESC environments by name")


def read_stack_file(path: Path, project: str = PROJECT, data: bytes | None = None) -> StackFile:
    """The stack file's config as the CLI passes it: fully qualified keys, values as written.

    `data` is the file's content when it does not come from `path` (e.g. from `git show`; then
    `path` only names it). Encrypted values cannot be read without the stack's secrets
    provider: this project's are refused by name (this program takes no secrets), other
    namespaces' are left out and listed.
    """
    document = _load_yaml(path, data)
    _check_keys(path, document, "", [_MAX_NODES], set())
    if document is None:
        return StackFile(path, {}, has_config=False)
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: a stack file is a mapping with a 'config:' key")
    environments = _environments(path, document.get("environment"))
    raw = document.get("config")
    if raw is None:
        return StackFile(path, {}, environments=environments, has_config="config" in document)
    if not isinstance(raw, dict):
        raise StackFileError(f"{path}: 'config:' must be a mapping of keys to values")
    config: dict[str, Any] = {}
    foreign: list[str] = []
    foreign_secrets: list[str] = []
    for key, value in raw.items():
        qualified = _qualified(path, key, project)
        secret = _secret_under(value, qualified)
        if secret and not qualified.startswith(f"{project}:"):
            foreign_secrets.append(qualified)
            continue
        if secret:
            raise StackFileError(
                f"{path}: {printable_key(secret)} is encrypted; the offline plan cannot read "
                "secrets, and this program takes none"
            )
        if qualified in config:
            raise StackFileError(
                f"{path}: {printable_key(qualified)} is set twice (as {printable_key(key)} too)"
            )
        # loaders.go checkForEmptyConfig: a key with no value "is currently treated as an
        # empty string".
        config[qualified] = "" if value is None else value
        if not qualified.startswith(f"{project}:"):
            foreign.append(qualified)
    return StackFile(path, config, tuple(foreign), tuple(foreign_secrets), environments)


def read_config(path: Path, project: str = PROJECT) -> dict[str, Any]:
    """Fully qualified keys (`project:key`), values as in the file."""
    return read_stack_file(path, project).config
