"""The OpenAPI document: the command request body is the interchange schemas' own declaration
(`ledger.schemas.records.COMMAND_MODELS`, one pydantic model per command type, discriminated by
`type`), added to the document's components; errors share one `Problem` shape."""

from __future__ import annotations

from typing import Annotated, Any, Union

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field, TypeAdapter

from ledger.schemas.records import COMMAND_MODELS

COMMAND_BODY = "Command"
COMMAND_BODY_REF = f"#/components/schemas/{COMMAND_BODY}"
REF_TEMPLATE = "#/components/schemas/{model}"


class Problem(BaseModel):
    """Why a request was refused: a sentence (or, for a malformed query, the list of problems)."""

    detail: str | list[dict[str, Any]]


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no token, or an unknown or revoked one"},
    403: {"model": Problem, "description": "the roles policy does not allow the token's actor this; nothing written"},
    503: {"model": Problem, "description": "busy (other writers held what this needed; see `Retry-After`) or the "
                                          "store is unavailable"},
}
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "a malformed parameter (identifier, `as_of`, cursor)"},
    **PROBLEM_RESPONSES,
}


def command_schemas() -> dict[str, Any]:
    """Component schemas: `Command` (oneOf the command models, by `type`) and the models it uses."""
    union = Annotated[Union[tuple(COMMAND_MODELS.values())], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    schema = TypeAdapter(union).json_schema(by_alias=True, mode="validation", ref_template=REF_TEMPLATE)
    definitions = schema.pop("$defs")
    return {COMMAND_BODY: schema, **definitions}


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, with the command schemas and without FastAPI's default 422
    (a malformed parameter is answered 400 here)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components.update(command_schemas())
        for path in document.get("paths", {}).values():
            for operation in path.values():
                responses = operation.get("responses", {})
                default_422 = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
                if default_422.get("$ref", "").endswith("/HTTPValidationError"):
                    del responses["422"]
                    responses.setdefault("400", {"description": "a malformed parameter",
                                                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components.setdefault("Problem", Problem.model_json_schema(ref_template=REF_TEMPLATE))
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
