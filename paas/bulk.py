"""Writing many rows in one statement from columns of values, for the batch paths (the billing clock).

``bulk_create`` and ``bulk_update`` build and prepare a model instance per row, field by field:
right for tens of rows, most of the time at tens of thousands, and ``bulk_update`` sends a
``CASE WHEN`` per field that grows with the batch. Here each column travels as one array that
PostgreSQL ``unnest``s, so a batch is one statement and a few microseconds of Python per row.

Values go in as the column stores them (UUID, str, Decimal, aware datetime, int, bool, None; a
JSON column takes the document, encoded here): no field conversion or validation runs, so the
callers are services that built the values themselves. A concrete field left out gets its default
(``auto_now`` fields: the time of the call). Other databases (SQLite, local runs) fall back to the
ORM with the same result.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import BooleanField, JSONField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone


def _field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    if not field.concrete:
        raise ValueError(f"{model.__name__}.{name} is not a column.")
    return field


def _default(field: models.Field, now) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()


def _sql_value(field: models.Field, value: Any) -> Any:
    if isinstance(field, JSONField) and value is not None:
        return json.dumps(value, cls=field.encoder or DjangoJSONEncoder)
    return value


def _cursor():
    """A cursor on the current connection and transaction that sends parameters apart from the
    query text (psycopg's server-side binding): an array literal travels as one value instead of
    being escaped again into the query text, as Django's client-side binding cursor does.
    Wrapped like Django's own cursors, so query logging and ``execute_wrapper`` still see it."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _column_type(field: models.Field) -> str:
    return field.target_field.db_type(connection) if field.is_relation else field.db_type(connection)


def _lengths(columns: Mapping[str, Sequence]) -> int:
    sizes = {len(values) for values in columns.values()}
    if len(sizes) > 1:
        raise ValueError("Every column needs one value per row.")
    return sizes.pop() if sizes else 0


def insert_rows(model: type[models.Model], columns: Mapping[str, Sequence], **constants: Any) -> int:
    """Insert one row per position in ``columns`` (field name -> values); ``constants`` are the
    same in every row. Unnamed fields get their default; an auto primary key is left to the
    database. Returns the number of rows inserted."""
    count = _lengths(columns)
    if not count:
        return 0
    now = timezone.now()
    fields = {name: _field(model, name) for name in columns}
    given = {f.attname for f in fields.values()} | {_field(model, n).attname for n in constants}
    for field in model._meta.concrete_fields:
        if field.attname not in given and not (field.primary_key and isinstance(field, models.AutoField)):
            constants[field.attname] = _default(field, now)
    if connection.vendor != "postgresql":
        rows = [model(**{f.attname: columns[n][i] for n, f in fields.items()}, **constants) for i in range(count)]
        model.objects.bulk_create(rows)
        return count
    fixed = {name: _field(model, name) for name in constants}
    names = ", ".join(_quote(f.column) for f in [*fields.values(), *fixed.values()])
    arrays = ", ".join(f"%s::{_column_type(f)}[]" for f in fields.values())
    scalars = "".join(f", %s::{_column_type(f)}" for f in fixed.values())
    # Identifiers and types come from the model's metadata; every value is a parameter.
    sql = f"INSERT INTO {_quote(model._meta.db_table)} ({names}) SELECT u.*{scalars} FROM unnest({arrays}) AS u"  # noqa: S608
    params = [_sql_value(f, constants[n]) for n, f in fixed.items()]  # the scalars come first in the text
    params += [_array(f, columns[n]) for n, f in fields.items()]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def update_rows(model: type[models.Model], key: str, columns: Mapping[str, Sequence], **constants: Any) -> int:
    """Update the rows whose ``key`` field is in ``columns[key]``, each with the values at its
    position in the other columns, and ``constants`` in all of them. Returns the rows updated."""
    count = _lengths(columns)
    if not count:
        return 0
    fields = {name: _field(model, name) for name in columns}
    fixed = {name: _field(model, name) for name in constants}
    others = [n for n in fields if n != key]
    if connection.vendor != "postgresql":
        updated = 0
        for i in range(count):
            values = {fields[n].attname: columns[n][i] for n in others}
            updated += model.objects.filter(**{key: columns[key][i]}).update(**values, **constants)
        return updated
    order = [key, *others]
    assignments = [f"{_quote(fields[n].column)} = u.{_quote(fields[n].column)}" for n in others]
    assignments += [f"{_quote(f.column)} = %s::{_column_type(f)}" for f in fixed.values()]
    arrays = ", ".join(f"%s::{_column_type(fields[n])}[]" for n in order)
    aliases = ", ".join(_quote(fields[n].column) for n in order)
    key_column = _quote(fields[key].column)
    # Identifiers and types come from the model's metadata; every value is a parameter.
    sql = (
        f"UPDATE {_quote(model._meta.db_table)} AS t SET {', '.join(assignments)} "  # noqa: S608
        f"FROM unnest({arrays}) AS u({aliases}) WHERE t.{key_column} = u.{key_column}"
    )
    params = [_sql_value(f, constants[n]) for n, f in fixed.items()]
    params += [_array(fields[n], columns[n]) for n in order]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def any_of(model: type[models.Model], name: str, values: Sequence):
    """A filter: ``name`` is one of ``values``, sent as one array (``column = ANY(array)``).

    ``<name>__in`` sends a quoted parameter per value, which at a batch of hundreds of ids costs
    more in Python than the query does in the database. Use it in ``filter()`` like a ``Q``.
    """
    field = _field(model, name)
    if connection.vendor != "postgresql":
        return Q(**{f"{field.attname}__in": list(values)})
    column = f"{_quote(model._meta.db_table)}.{_quote(field.column)}"
    # The column and its type come from the model's metadata; the values are one parameter.
    condition = f"{column} = ANY(%s::{_column_type(field)}[])"
    return RawSQL(condition, (_array(field, values),), output_field=BooleanField())  # noqa: S611


def select_matching(model: type[models.Model], keys: Mapping[str, Sequence], fields: Sequence[str]) -> list[tuple]:
    """``fields`` of the rows whose key columns match one of the given tuples: ``keys`` maps each
    key field to its values, position by position. An index on the key columns is probed once per
    tuple, where ``a IN (...) AND b IN (...)`` would scan every pair the two lists make."""
    count = _lengths(keys)
    if not count:
        return []
    key_fields = {name: _field(model, name) for name in keys}
    if connection.vendor != "postgresql":
        wanted = set(zip(*keys.values(), strict=True))
        first = next(iter(keys))
        candidates = model.objects.filter(**{f"{first}__in": set(keys[first])})
        names = [f.attname for f in key_fields.values()]
        return [row[len(names) :] for row in candidates.values_list(*names, *fields) if row[: len(names)] in wanted]
    table = _quote(model._meta.db_table)
    arrays = ", ".join(f"%s::{_column_type(f)}[]" for f in key_fields.values())
    aliases = ", ".join(_quote(f.column) for f in key_fields.values())
    join = " AND ".join(f"t.{_quote(f.column)} = k.{_quote(f.column)}" for f in key_fields.values())
    columns = ", ".join(f"t.{_quote(_field(model, name).column)}" for name in fields)
    sql = f"SELECT {columns} FROM unnest({arrays}) AS k({aliases}) JOIN {table} AS t ON {join}"  # noqa: S608
    with _cursor() as cursor:
        cursor.execute(sql, [_array(f, keys[n]) for n, f in key_fields.items()])
        return cursor.fetchall()


# Values whose text never holds a quote or a backslash: no escaping needed.
_PLAIN = (uuid.UUID, Decimal, int, datetime)


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, _PLAIN):
        return f'"{value}"'
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _array(field: models.Field, values: Sequence) -> str:
    """``values`` as a PostgreSQL array literal (``{"a","b",NULL}``), every element quoted: the
    driver would build the same text element by element, several times slower."""
    if isinstance(field, JSONField):
        values = [_sql_value(field, v) for v in values]
    return "{" + ",".join(map(_element, values)) + "}"
