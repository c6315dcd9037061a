"""CustomResourceDefinitions generated from the pydantic models.

Kubernetes wants a structural OpenAPI v3.0 schema with everything inlined (no
``$ref``), ``nullable`` instead of ``anyOf [X, null]``, boolean
``exclusiveMinimum`` and extension keys for int-or-string and free-form objects.
:func:`structural` turns pydantic's JSON Schema into that; the rest adds what
a schema alone cannot say as CEL rules.

The catalog's knowledge (which params and inputs each operation takes) comes in
as :class:`OperationContract` values, so this module needs no catalog import.
A little over 400 lines: the schema conversion and the CEL rules it adds are
one generator, tested as one against the API server.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from mediajobs.api.common import GROUP, VERSION
from mediajobs.api.hitl import KIND as HITL_KIND
from mediajobs.api.hitl import PLURAL as HITL_PLURAL
from mediajobs.api.hitl import HitlSessionSpec, HitlSessionStatus
from mediajobs.api.mediajob import KIND as MJ_KIND
from mediajobs.api.mediajob import PLURAL as MJ_PLURAL
from mediajobs.api.mediajob import MediaJobSpec, MediaJobStatus

Schema = dict[str, Any]

_DROP = {"title", "discriminator"}


class SchemaConflictError(ValueError):
    """Two operations gave one param name different schemas."""


@dataclass(frozen=True)
class OperationContract:
    """What the CRD must enforce about one operation (built by the catalog)."""

    name: str
    params: type[BaseModel]
    min_inputs: int
    max_inputs: int
    needs_creator: bool = False
    needs_platform: bool = False


_RULES = "x-kubernetes-validations"


def _merge(inner: Schema, outer: Schema) -> Schema:
    """Field-level keys over the referenced type's, keeping the CEL rules of both."""
    merged = {**inner, **outer}
    rules = [*inner.get(_RULES, []), *outer.get(_RULES, [])]
    if rules:
        merged[_RULES] = rules
    return merged


@dataclass
class _Converter:
    defs: Mapping[str, Schema]
    seen: list[str] = field(default_factory=list)

    def convert(self, node: Schema) -> Schema:
        node = dict(node)
        ref = node.pop("$ref", None)
        if ref is None and len(node.get("allOf", [])) == 1:
            ref = node.pop("allOf")[0]["$ref"]
        if ref is not None:
            name = ref.rsplit("/", 1)[-1]
            if name in self.seen:
                raise ValueError(f"recursive model {name} cannot be a CRD schema")
            self.seen.append(name)
            target = self.convert(self.defs[name])
            self.seen.pop()
            node = _merge(target, node)
        if "anyOf" in node:
            node = self._any_of(node)
        out: Schema = {}
        for key, value in node.items():
            if key in _DROP or (key == "default" and value is None):
                continue
            if key == "description":  # a docstring's line breaks are only layout
                out[key] = " ".join(value.split())
            else:
                out.update(self._key(key, value))
        if "enum" in out and "type" not in out:
            out["type"] = "string"
        return out

    def _key(self, key: str, value: Any) -> Schema:  # noqa: ANN401 - JSON Schema values
        """One key of a node, rewritten for a structural schema."""
        if key == "properties":
            return {key: {k: self.convert(v) for k, v in value.items()}}
        if key == "items":
            return {key: self.convert(value)}
        if key == "additionalProperties":
            if value is True or value == {}:
                return {"x-kubernetes-preserve-unknown-fields": True}
            # False: a structural schema prunes unknown fields anyway, and
            # kubectl's strict field validation rejects them by name.
            return {key: self.convert(value)} if isinstance(value, dict) else {}
        if key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            # JSON Schema's numeric bound is OpenAPI v3.0's bound plus a boolean (already
            # the boolean: a param two operations share is converted once per operation).
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            return {bound: value, key: True}
        # A copy: one model inlined at two places must not share nodes (YAML would alias them).
        return {key: copy.deepcopy(value)}

    def _any_of(self, node: Schema) -> Schema:
        branches = [b for b in node.pop("anyOf") if b.get("type") != "null"]
        types = sorted(b.get("type", "") for b in branches)
        if types == ["integer", "string"]:
            # The string branch's bound stays: CEL's cost estimate needs it.
            text = next(b for b in branches if b.get("type") == "string")
            bound = {"maxLength": text["maxLength"]} if "maxLength" in text else {}
            return {**node, **bound, "x-kubernetes-int-or-string": True}
        if len(branches) != 1:
            raise ValueError(f"unsupported union in CRD schema: {branches}")
        return _merge(self.convert(branches[0]), node)


def structural(model: type[BaseModel]) -> Schema:
    """The model as a structural OpenAPI v3.0 schema (camelCase, inlined)."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return _Converter(raw.pop("$defs", {})).convert(raw)


def _strip_defaults(node: object) -> object:
    if isinstance(node, dict):
        return {k: _strip_defaults(v) for k, v in node.items() if k != "default"}
    if isinstance(node, list):
        return [_strip_defaults(v) for v in node]
    return node


def _quote(names: Iterable[str]) -> str:
    return "[" + ", ".join(f"'{n}'" for n in names) + "]"


def _taken_by(users: Sequence[tuple[str, Schema, bool]]) -> str:
    """Which operations take a param, each with its default or "required"."""
    parts = []
    for operation, prop, required in users:
        default = prop.get("default")
        if required:
            parts.append(f"{operation} (required)")
        elif default is not None:
            shown = default if isinstance(default, str) and default else json.dumps(default)
            parts.append(f"{operation} (default {shown})")
        else:
            parts.append(operation)
    return f"Taken by {', '.join(parts)}."


def params_union(contracts: Sequence[OperationContract]) -> Schema:
    """One ``spec.params`` schema holding every operation's params.

    Defaults are left out: they differ between operations, and a default here
    would add a param to operations that do not take it. Each param's
    description says instead which operations take it, with their defaults. A
    name must have the same schema in every operation that uses it, or
    generation fails.
    """
    props: dict[str, Schema] = {}
    owner: dict[str, str] = {}
    users: dict[str, list[tuple[str, Schema, bool]]] = {}
    takes: list[str] = []
    for contract in contracts:
        schema = structural(contract.params)
        own = schema.get("properties", {})
        takes.append(f"{contract.name}: {', '.join(own) if own else 'none'}")
        for name, raw in own.items():
            users.setdefault(name, []).append(
                (contract.name, raw, name in schema.get("required", []))
            )
            prop: Schema = _strip_defaults(raw)  # type: ignore[assignment]
            compare = {k: v for k, v in prop.items() if k != "description"}
            if name in props:
                known = {k: v for k, v in props[name].items() if k != "description"}
                if known != compare:
                    raise SchemaConflictError(
                        f"param {name!r} differs between {owner[name]} and {contract.name}: "
                        f"{known} != {compare}"
                    )
                continue
            props[name] = prop
            owner[name] = contract.name
    for name, prop in props.items():
        said = [prop["description"]] if "description" in prop else []
        prop["description"] = " ".join([*said, _taken_by(users[name])])
    return {
        "type": "object",
        "description": "Operation parameters; each operation takes only its own, and a param "
        "that belongs to another operation is refused. Defaults depend on the operation "
        "(see each param). By operation: " + "; ".join(takes) + ".",
        "properties": dict(sorted(props.items())),
    }


def _params_rules(
    contracts: Sequence[OperationContract], union: Iterable[str], foreign_rules: bool
) -> list[Schema]:
    every = sorted(union)
    rules: list[Schema] = []
    for c in contracts:
        schema = structural(c.params)
        own = list(schema.get("properties", {}))
        foreign = [n for n in every if n not in own]
        if foreign and foreign_rules:
            present = " || ".join(f"has(self.params.{n})" for n in foreign)
            named = " + ".join(f"(has(self.params.{n}) ? ' {n}' : '')" for n in foreign)
            takes = ", ".join(own) if own else "none"
            rules.append(
                {
                    "rule": f"self.operation != '{c.name}' || !has(self.params) || !({present})",
                    "messageExpression": f"'operation {c.name} does not take param(s):' + {named}"
                    f" + ' (it takes: {takes})'",
                    "fieldPath": ".params",
                    "reason": "FieldValueForbidden",
                }
            )
        required = schema.get("required", [])
        if required:
            has_all = " && ".join(f"has(self.params.{n})" for n in required)
            rules.append(
                {
                    "rule": f"self.operation != '{c.name}' || (has(self.params) && {has_all})",
                    "message": f"operation {c.name} requires params: {', '.join(required)}",
                    "fieldPath": ".params",
                    "reason": "FieldValueRequired",
                }
            )
    return rules


def _input_rules(contracts: Sequence[OperationContract]) -> list[Schema]:
    by_arity: dict[tuple[int, int], list[str]] = {}
    for c in contracts:
        by_arity.setdefault((c.min_inputs, c.max_inputs), []).append(c.name)
    rules: list[Schema] = []
    for (lo, hi), ops in sorted(by_arity.items()):
        guard = f"!(self.operation in {_quote(ops)})"
        if hi == 0:
            cond, msg = "!has(self.input) && !has(self.inputs)", "take no input"
        elif (lo, hi) == (1, 1):
            cond, msg = (
                "has(self.input) && !has(self.inputs)",
                "need exactly one input (spec.input)",
            )
        elif hi == 1:
            cond, msg = "!has(self.inputs)", "take at most one input (spec.input)"
        else:
            cond = (
                f"!has(self.input) && has(self.inputs) && size(self.inputs) >= {lo}"
                f" && size(self.inputs) <= {hi}"
            )
            count = f"exactly {lo}" if lo == hi else f"{lo} to {hi}"
            msg = f"need {count} inputs in spec.inputs (not spec.input)"
        rules.append({"rule": f"{guard} || ({cond})", "message": f"{', '.join(ops)}: {msg}"})
    return rules


def _scope_rules(contracts: Sequence[OperationContract]) -> list[Schema]:
    rules = []
    for attr, fieldname in (("needs_creator", "creatorProfile"), ("needs_platform", "platform")):
        ops = [c.name for c in contracts if getattr(c, attr)]
        if ops:
            rules.append(
                {
                    "rule": f"!(self.operation in {_quote(ops)}) || has(self.{fieldname})",
                    "message": f"{fieldname} is required for {', '.join(ops)}",
                    "fieldPath": f".{fieldname}",
                    "reason": "FieldValueRequired",
                }
            )
    return rules


def _conditions_list(status: Schema) -> Schema:
    conditions = status["properties"].get("conditions")
    if conditions is not None:
        conditions["x-kubernetes-list-type"] = "map"
        conditions["x-kubernetes-list-map-keys"] = ["type"]
    return status


# What Kubernetes' own types say about the fields every object has.
_OBJECT_FIELDS: Schema = {
    "apiVersion": {
        "type": "string",
        "description": "The versioned schema of this representation of an object: "
        f"{GROUP}/{VERSION}.",
    },
    "kind": {
        "type": "string",
        "description": "The REST resource this object represents, in CamelCase.",
    },
    # The API server allows nothing here, not even a description: it describes ObjectMeta itself.
    "metadata": {"type": "object"},
}


def _crd(
    *,
    kind: str,
    description: str,
    plural: str,
    short_names: list[str],
    spec: Schema,
    status: Schema,
    columns: list[Schema],
    selectable: list[str],
    rules: Sequence[Schema] = (),
) -> Schema:
    root: Schema = {"type": "object", "description": description}
    if rules:
        root[_RULES] = list(rules)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": short_names,
                "categories": ["media"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "selectableFields": [{"jsonPath": p} for p in selectable],
                    "schema": {
                        "openAPIV3Schema": {
                            **root,
                            "required": ["spec"],
                            "properties": {
                                **_OBJECT_FIELDS,
                                "spec": spec,
                                "status": _conditions_list(status),
                            },
                        }
                    },
                }
            ],
        },
    }


def _col(name: str, json_path: str, kind: str = "string", priority: int = 0) -> Schema:
    column: Schema = {"name": name, "type": kind, "jsonPath": json_path}
    if priority:
        column["priority"] = priority
    return column


def mediajob_spec(
    contracts: Sequence[OperationContract], *, foreign_params_rules: bool = True
) -> Schema:
    """A MediaJob's spec schema, with the catalog's params and rules. Without
    FOREIGN_PARAMS_RULES, a param of another operation is left to the operator to
    refuse: those rules are most of the schema's size (a MediaJobSchedule holds up to
    six specs, and kubectl apply keeps a CRD's copy in a 256 KiB annotation)."""
    spec = structural(MediaJobSpec)
    union = params_union(contracts)
    spec["properties"]["params"] = union
    spec.setdefault(_RULES, []).extend(
        [
            *_params_rules(contracts, union["properties"], foreign_params_rules),
            *_input_rules(contracts),
            *_scope_rules(contracts),
        ]
    )
    return spec


def mediajob_crd(contracts: Sequence[OperationContract]) -> Schema:
    spec = mediajob_spec(contracts)
    columns = [
        _col("Operation", ".spec.operation"),
        _col("Phase", ".status.phase"),
        _col("Progress", ".status.progress", "integer"),
        _col("Priority", ".spec.priority", "integer"),
        _col("Category", ".status.category"),
        _col("Age", ".metadata.creationTimestamp", "date"),
        _col("Queue-Pos", ".status.queuePosition", "integer", priority=1),
        _col("Job", ".status.jobName", priority=1),
        _col("Message", ".status.message", priority=1),
    ]
    selectable = [".spec.operation", ".spec.category", ".spec.creatorProfile", ".status.phase"]
    return _crd(
        kind=MJ_KIND,
        description="A MediaJob is one piece of media work (convert, resize, encode, watermark, "
        "scrape, publish...) that the operator queues by priority and category and runs as a "
        "batch/v1 Job.",
        plural=MJ_PLURAL,
        short_names=["mj"],
        spec=spec,
        status=structural(MediaJobStatus),
        columns=columns,
        selectable=selectable,
        rules=[
            {
                # Only the root sees metadata.name: the one cycle CEL can see.
                "rule": "!has(self.spec.dependsOn) || !(self.metadata.name in self.spec.dependsOn)",
                "message": "a MediaJob cannot depend on itself (spec.dependsOn names it)",
                "fieldPath": ".spec.dependsOn",
            }
        ],
    )


def hitlsession_crd() -> Schema:
    columns = [
        _col("Platform", ".spec.platform"),
        _col("Profile", ".spec.creatorProfile"),
        _col("Type", ".spec.sessionType"),
        _col("Phase", ".status.phase"),
        _col("Waiting", ".status.waitingJobs"),
        _col("Message", ".status.message"),
        _col("Expires", ".status.expiresAt", "date"),
        _col("Age", ".metadata.creationTimestamp", "date"),
    ]
    selectable = [".spec.creatorProfile", ".spec.platform", ".status.phase"]
    return _crd(
        kind=HITL_KIND,
        description="A HitlSession is a human-in-the-loop gate: a platform login that a person "
        "must renew before scrapes and posts for the creator can go on.",
        plural=HITL_PLURAL,
        short_names=["hitl"],
        spec=structural(HitlSessionSpec),
        status=structural(HitlSessionStatus),
        columns=columns,
        selectable=selectable,
    )
