"""Post-processing of the OpenAPI schema (drf-spectacular)."""

from __future__ import annotations

# "HH:MM[:SS[.ffffff]]": a wall-clock time at the venue or in the window's own timezone.
LOCAL_TIME_PATTERN = r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"


def local_times(result: dict, generator, request, public) -> dict:
    """Describe DRF TimeFields as local times, not RFC 3339 `time`.

    OpenAPI's `format: time` is RFC 3339 full-time, which requires a UTC offset; our times
    ("ceremony at 14:00", "maintenance from 02:00") are local on purpose and carry none.
    Schemathesis rightly flagged "00:00:00" as not a `time` (tests/proof/test_fuzz_api.py).
    """

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and node.get("format") == "time":
                node.pop("format")
                node["pattern"] = LOCAL_TIME_PATTERN
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result


def non_blank_strings(result: dict, generator, request, public) -> dict:
    """Say that required text must hold more than whitespace.

    DRF trims CharFields before checking they are not blank, so " " is refused although
    `minLength: 1` admits it: valid-by-schema requests were refused (issue 15, schemathesis'
    "schema validation mismatch"). Request bodies only; patterns and formats already say more.
    """

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if (
                node.get("type") == "string"
                and node.get("minLength", 0) >= 1
                and not {"pattern", "format", "enum"} & node.keys()
            ):
                node["pattern"] = r"\S"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            walk(component)
    return result


def crud_links(result: dict, generator, request, public) -> dict:
    """OpenAPI links from each `POST /x/` (201) to the operations of `/x/{id}/`.

    drf-spectacular writes none, so a stateful client (schemathesis' stateful phase among
    them) reached detail routes only with ids that do not exist (issue 15). The link passes
    the created record's lookup value (`id`, or `slug` for dashboards) to the detail path.
    """
    components = result.get("components", {}).get("schemas", {})
    paths = result.get("paths", {})
    for path, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if not created:
            continue
        body = created.get("content", {}).get("application/json", {}).get("schema", {})
        ref = body.get("$ref", "")
        properties = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
        for detail, operations in paths.items():
            param = _single_param_child(path, detail)
            if param is None or param not in properties:
                continue
            links = created.setdefault("links", {})
            # POST only to an action of the record (/x/{id}/resolve/), not to the list.
            methods = {"get", "put", "patch", "delete"}
            if not detail.endswith("}/"):
                methods.add("post")
            for method, operation in operations.items():
                if method in methods and "operationId" in operation:
                    links[operation["operationId"]] = {
                        "operationId": operation["operationId"],
                        "parameters": {param: f"$response.body#/{param}"},
                    }
    return result


def _single_param_child(parent: str, path: str) -> str | None:
    """"id" for ("/x/", "/x/{id}/") and ("/x/", "/x/{id}/action/"); else None.

    A POST to /x/import/ creates an /x/ record too, so its parent /x/ counts as well."""
    for base in (parent, parent.rstrip("/").rsplit("/", 1)[0] + "/"):
        rest = path[len(base) :] if path.startswith(base) else ""
        head, _, tail = rest.partition("}/")
        if head.startswith("{") and "{" not in head[1:] and "{" not in tail:
            return head[1:]
        if "{" in parent.rsplit("/", 2)[-2]:  # /x/{id}/action/: its parent is a record
            break
    return None
