"""Schemas shared by the API resources: problems, pages, safe text, ids."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from siyu.core.validation import MAX_ID, is_storable

ID = f"int(min=1, max={MAX_ID})"  # an id column; also what a bare <int:…> allows (storefront.inputs)


def _clean_text(value: str) -> None:
    # NUL bytes and lone surrogates cannot be stored (PostgreSQL, UTF-8); the input guard
    # refuses them in a request, this in any other use of the schema.
    if not is_storable(value):
        raise ma.ValidationError("Must not contain NUL characters or unpaired surrogates.")


def Text(*, max_length: int, min_length: int = 0, **kwargs) -> fields.String:  # noqa: N802 - a field factory
    validators = [validate.Length(min=min_length, max=max_length), _clean_text]
    validators += kwargs.pop("validate", [])
    return fields.String(validate=validators, **kwargs)


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem: a title for people, field messages under ``errors``."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    errors = fields.Dict(metadata={"description": "Messages per field"})


class PageArgs(ma.Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PageSchema(ma.Schema):
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page envelope schema named ``name`` holding ``items`` of ``item_schema``."""
    return type(name, (PageSchema,), {"items": fields.List(fields.Nested(item_schema), required=True)})


def paginate(session, query, count_query, args: dict) -> dict:
    """Run ``query`` for one page; ``count_query`` counts every row."""
    size = args["page_size"]
    total = session.scalar(count_query) or 0
    items = session.scalars(query.limit(size).offset((args["page"] - 1) * size)).all()
    return {"items": items, "page": args["page"], "page_size": size, "total": total,
            "pages": max((total + size - 1) // size, 1)}
