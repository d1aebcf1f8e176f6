"""Safe YAML loading that also rejects duplicate keys (a silent overwrite in a
hand-written rubric or checklist is almost always a mistake)."""
from __future__ import annotations

from typing import Any

import yaml


class _StrictSafeLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen[key] = loader.construct_object(value_node, deep=deep)
    return seen


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str) -> Any:
    """Parse YAML with a safe loader; duplicate keys are errors."""
    return yaml.load(text, Loader=_StrictSafeLoader)  # noqa: S506 - SafeLoader subclass
