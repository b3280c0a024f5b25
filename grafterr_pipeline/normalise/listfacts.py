"""What each order's lines and payments add up to, worked out in Arrow and numpy.

``fastsql.CONV`` hands each order over with its lines and payments as lists of rows, each row
already judged on its own (``ok``). What needs the whole list -- every row valid, no line id or
payment id twice within the order, the quantities' sum in range, the count of items not voided
-- cost DuckDB a lambda pass over the lists per question (a fifth of the query, and
``list_distinct`` of string ids the most); here it is a few vectorised passes over the flattened
rows. Like the SQL it replaces, it is conservative: an order it cannot prove is flagged, and
the Python reference decides.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grafterr_pipeline.normalise.values import MAX_INT

__all__ = ["QUANTITY_LIMIT", "with_list_facts"]

# What an order's quantities may add up to at most (orders.py, ``_item_count``), plus one.
QUANTITY_LIMIT = MAX_INT + 1
# Quantities are summed as floats, which never overflow; an order whose sum comes within a
# quarter of the bound goes to the Python reader, which sums exactly (a float sum of a few
# thousand quantities errs by far less than that margin).
_FLOAT_GUARD = QUANTITY_LIMIT * 0.75


def with_list_facts(conv: pa.Table) -> pa.Table:
    """``conv`` with ``item_count`` (the quantity of the lines not voided) and ``lists_ok``
    (every line, modifier and payment valid, ids unique within the order, quantities in range)."""
    rows = conv.num_rows
    items = _combined(conv["items"])
    payments = _combined(conv["payments"])
    item_rows = pc.list_flatten(items)
    item_order = _parents(items)

    bad = np.zeros(rows, dtype=bool)
    _flag(bad, item_order, _not(pc.struct_field(item_rows, "ok")))
    _flag(bad, item_order, _items_with_bad_modifiers(item_rows))
    _flag(bad, item_order, _repeated(item_order, pc.struct_field(item_rows, "line_id")))
    payment_rows = pc.list_flatten(payments)
    payment_order = _parents(payments)
    _flag(bad, payment_order, _not(_payment_ok(payment_rows)))
    _flag(bad, payment_order, _repeated(payment_order, pc.struct_field(payment_rows, "payment_id")))

    quantity = pc.struct_field(item_rows, "quantity")
    bad |= _quantity_too_large(quantity, item_order, rows)
    voided = pc.fill_null(pc.equal(pc.struct_field(item_rows, "status"), "voided"), False)
    counted = pc.fill_null(pc.if_else(voided, 0, quantity), 0)
    item_count = np.zeros(rows, dtype=np.int64)
    np.add.at(item_count, item_order, counted.to_numpy(zero_copy_only=False).astype(np.int64))
    conv = conv.append_column("item_count", pa.array(item_count))
    return conv.append_column("lists_ok", pa.array(~bad))


def _combined(column: pa.ChunkedArray) -> pa.ListArray:
    """``column`` as one array, so element positions are rows of the table."""
    array = column.combine_chunks()
    return array if len(array) else pa.array([], column.type)


def _parents(lists: pa.ListArray) -> np.ndarray:
    """For each element of ``lists`` (nulls hold none), the row it belongs to."""
    return pc.list_parent_indices(lists).to_numpy()


def _not(flags: pa.Array) -> np.ndarray:
    """Where ``flags`` is not true (false or null)."""
    return ~pc.fill_null(flags, False).to_numpy(zero_copy_only=False)


def _flag(bad: np.ndarray, parent: np.ndarray, where: np.ndarray) -> None:
    """Mark in ``bad`` the parent of each element ``where`` holds."""
    bad[parent[where]] = True


def _items_with_bad_modifiers(item_rows: pa.StructArray) -> np.ndarray:
    """Where a line holds a modifier that is not valid."""
    modifiers = pc.struct_field(item_rows, "modifiers")
    bad = np.zeros(len(item_rows), dtype=bool)
    _flag(bad, _parents(modifiers), _not(pc.struct_field(pc.list_flatten(modifiers), "ok")))
    return bad


def _payment_ok(payment_rows: pa.StructArray) -> pa.Array:
    """``ok``, and a ``paid_at`` given only as a time that could be read."""
    read = pc.or_(
        pc.is_valid(pc.struct_field(payment_rows, "paid_at")),
        pc.invert(pc.struct_field(payment_rows, "paid_given")),
    )
    return pc.and_(pc.struct_field(payment_rows, "ok"), read)


def _repeated(parent: np.ndarray, ids: pa.Array) -> np.ndarray:
    """Where an element's id (null counting as one id) is its row's earlier element's too."""
    if len(ids) < 2:
        return np.zeros(len(ids), dtype=bool)
    encoded = pc.dictionary_encode(ids)
    code = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    key = parent.astype(np.int64) * (len(encoded.dictionary) + 1) + code
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    repeated = np.zeros(len(ids), dtype=bool)
    repeated[order[1:][ordered[1:] == ordered[:-1]]] = True
    return repeated


def _quantity_too_large(quantity: pa.Array, parent: np.ndarray, rows: int) -> np.ndarray:
    """Orders whose quantities may reach :data:`QUANTITY_LIMIT` in sum (judged in floats, with
    a margin: an order near the bound goes to the Python reader, which sums exactly)."""
    values = pc.fill_null(quantity, 0).to_numpy(zero_copy_only=False).astype(np.float64)
    total = np.bincount(parent, weights=np.abs(values), minlength=rows)
    return total >= _FLOAT_GUARD
