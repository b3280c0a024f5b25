"""The SQL of the fast path: validation and the four tables, as DuckDB sees one chunk of lines.

Every rule mirrors :mod:`grafterr_pipeline.normalise.orders` and is *conservative*: a line the
SQL cannot prove valid is not rejected here but handed to the Python reference, which either
accepts it after all or gives the reason to quarantine it. So the SQL never needs to word a
reason, and the two paths cannot disagree about what is valid.

The statements run in order on one connection; ``lines`` (``cand``, ``line``) is the chunk and
``verdicts`` (``shape``, ``plain``, ``floats``) the judged shapes (see ``shapes.py``). Values
are bound, never formatted in: ``$spec``, ``$zones``, ``$cutoff_minutes``, ``$salt``, ``$pii``.
"""

from __future__ import annotations

__all__ = ["BEST", "KEYS", "MACROS", "PREPARE", "TABLE_QUERIES", "WINNERS"]

# Text rules, as strict as Python's readers or stricter (values.py):
# money: what _MONEY_TEXT accepts, less surrounding blanks (Python strips them first);
# timestamps: the ISO form Grafterr sends, offset required, at most microseconds;
# ids: at most 128 bytes and at least one visible ASCII character, so Python's strip() keeps
# them non-empty.
MACROS = r"""
CREATE OR REPLACE TEMP MACRO money_ok(x) AS
    x IS NULL OR regexp_full_match(x, '-?[0-9]{1,16}(\.[0-9]{1,2})?');
CREATE OR REPLACE TEMP MACRO money(x) AS CAST(x AS DECIMAL(18, 2));
CREATE OR REPLACE TEMP MACRO ts_ok(x) AS
    regexp_full_match(x, '(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:'
                         '[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])')
    AND TRY_CAST(x AS TIMESTAMPTZ) IS NOT NULL;
CREATE OR REPLACE TEMP MACRO id_ok(x) AS strlen(x) <= 128 AND regexp_matches(x, '[!-~]');
CREATE OR REPLACE TEMP MACRO int_ok(x, low) AS
    x IS NULL OR (TRY_CAST(x AS BIGINT) IS NOT NULL AND CAST(x AS BIGINT) >= low
                  AND abs(CAST(x AS HUGEINT)) < 4611686018427387904);
"""

# One row per line the SQL may read, typed; then which of them break a rule it checks.
PREPARE = [
    r"""
    CREATE OR REPLACE TEMP TABLE shaped AS
    SELECT cand, line, try(json_structure(line)) AS shape FROM lines
    """,
    # A non-integral JSON number went through a float, exact only up to 15 significant digits:
    # lines with longer numbers go to Python.
    r"""
    CREATE OR REPLACE TEMP TABLE parsed AS
    SELECT s.cand, json_transform(s.line, $spec) AS r
    FROM shaped AS s JOIN verdicts AS v ON s.shape = v.shape
    WHERE v.plain AND NOT (v.floats AND regexp_matches(s.line, '[0-9](\.?[0-9]){15}'))
    """,
    # A view, not a table: copying the nested order out of the parsed line costs as much as
    # parsing it.
    r"""
    CREATE OR REPLACE TEMP VIEW cands AS
    SELECT cand, r.source, r.event_kind, r.occurred_at, r."order" AS d FROM parsed
    """,
    r"""
    CREATE OR REPLACE TEMP TABLE items AS
    SELECT cand, unnest(d.items) AS it,
           generate_subscripts(d.items, 1) AS n
    FROM cands
    """,
    r"""
    CREATE OR REPLACE TEMP TABLE mods AS
    SELECT cand, n, it.line_id, unnest(it.modifiers) AS m,
           generate_subscripts(it.modifiers, 1) AS k
    FROM items WHERE it IS NOT NULL
    """,
    r"""
    CREATE OR REPLACE TEMP TABLE pays AS
    SELECT cand, unnest(d.payments) AS p, generate_subscripts(d.payments, 1) AS n FROM cands
    """,
    r"""
    CREATE OR REPLACE TEMP TABLE bad AS
    SELECT cand FROM items
    WHERE it IS NULL OR it.line_id IS NULL OR NOT id_ok(it.line_id)
       OR NOT coalesce(id_ok(it.product_id), true)
       OR it.quantity IS NULL OR NOT int_ok(it.quantity, 0)
       OR NOT (money_ok(it.unit_price) AND money_ok(it.discount) AND money_ok(it.tax)
               AND money_ok(it.line_total))
    UNION ALL
    SELECT cand FROM items WHERE it IS NOT NULL GROUP BY cand, it.line_id HAVING count(*) > 1
    UNION ALL
    SELECT cand FROM items GROUP BY cand
    HAVING abs(sum(TRY_CAST(it.quantity AS HUGEINT))) >= 4611686018427387904
    UNION ALL
    SELECT cand FROM mods
    WHERE m IS NULL OR NOT coalesce(id_ok(m.modifier_id), true) OR NOT int_ok(m.quantity, 0)
       OR NOT money_ok(m.unit_price)
    UNION ALL
    SELECT cand FROM pays
    WHERE p IS NULL OR p.payment_id IS NULL OR NOT id_ok(p.payment_id)
       OR NOT (money_ok(p.amount) AND money_ok(p.tip))
       OR (p.paid_at IS NOT NULL AND NOT ts_ok(p.paid_at))
    UNION ALL
    SELECT cand FROM pays WHERE p IS NOT NULL GROUP BY cand, p.payment_id HAVING count(*) > 1
    UNION ALL
    SELECT cand FROM cands
    WHERE source IS NULL OR d IS NULL OR d.store IS NULL
       OR d.order_id IS NULL OR NOT id_ok(d.order_id)
       OR d.store.store_id IS NULL OR NOT id_ok(d.store.store_id)
       OR d.store.timezone IS NULL OR d.store.timezone NOT IN (SELECT name FROM zones)
       OR d.created_at IS NULL OR NOT ts_ok(d.created_at)
       OR d.updated_at IS NULL OR NOT ts_ok(d.updated_at)
       OR NOT int_ok(d.order_number, -4611686018427387903)
       OR NOT int_ok(d.covers, 0)
       OR ((TRY_CAST(d.covers AS INTEGER) IS NULL) <> (d.covers IS NULL))
       OR NOT coalesce(id_ok(d.customer.customer_id), true)
       OR NOT (d.customer.email IS NULL OR d.customer.email = ''
               OR regexp_full_match(d.customer.email, '[!-~]([ -~]*[!-~])?'))
       OR NOT (money_ok(d.totals.subtotal) AND money_ok(d.totals.discount)
               AND money_ok(d.totals.service_charge) AND money_ok(d.totals.tax)
               AND money_ok(d.totals.tip) AND money_ok(d.totals.total))
       OR (occurred_at IS NOT NULL AND NOT ts_ok(occurred_at))
    """,
    r"""
    CREATE OR REPLACE TEMP TABLE good AS
    SELECT c.cand, c.source, c.event_kind, TRY_CAST(c.occurred_at AS TIMESTAMPTZ) AS occurred_at,
           d.order_id, d.store.store_id, CAST(d.created_at AS TIMESTAMPTZ) AS created_at,
           CAST(d.updated_at AS TIMESTAMPTZ) AS updated_at,
           CAST(timezone(d.store.timezone, CAST(d.created_at AS TIMESTAMPTZ))
                - to_minutes(CAST($cutoff_minutes AS BIGINT)) AS DATE) AS business_date
    FROM cands AS c ANTI JOIN bad USING (cand)
    """,
]

# The orders table of the winning clean candidates (``winners``: cand), in the contract's order.
_ORDER_ROWS = r"""
WITH counts AS (
    SELECT cand, count(*) AS line_count,
           coalesce(sum(CAST(it.quantity AS BIGINT))
                    FILTER (WHERE it.status IS DISTINCT FROM 'voided'), 0) AS item_count
    FROM items GROUP BY cand
), pay_counts AS (
    SELECT cand, count(*) AS payment_count FROM pays GROUP BY cand
)
SELECT g.order_id, g.business_date, CAST(d.order_number AS BIGINT) AS order_number,
       g.store_id, d.store.name AS store_name, d.store.timezone AS store_timezone,
       d.channel, d.order_type, d.status, g.created_at, g.updated_at, d.currency,
       CAST(d.covers AS INTEGER) AS covers, d.table_number,
       d.customer.customer_id,
       CASE WHEN $pii <> 'drop' AND d.customer.email <> ''
            THEN sha256($salt || lower(d.customer.email)) END AS customer_email_sha256,
       CASE WHEN $pii = 'keep' THEN d.customer.name END AS customer_name,
       CASE WHEN $pii = 'keep' THEN d.customer.email END AS customer_email,
       CASE WHEN $pii = 'keep' THEN d.customer.phone END AS customer_phone,
       money(d.totals.subtotal) AS subtotal, money(d.totals.discount) AS discount,
       money(d.totals.service_charge) AS service_charge, money(d.totals.tax) AS tax,
       money(d.totals.tip) AS tip, money(d.totals.total) AS total,
       CAST(coalesce(n.line_count, 0) AS INTEGER) AS line_count,
       CAST(coalesce(n.item_count, 0) AS BIGINT) AS item_count,
       CAST(coalesce(p.payment_count, 0) AS INTEGER) AS payment_count,
       g.source, CAST(NULL AS VARCHAR) AS extra_json, g.cand AS _cand
FROM winners AS g JOIN cands AS c USING (cand)
LEFT JOIN counts AS n USING (cand) LEFT JOIN pay_counts AS p USING (cand)
ORDER BY g.created_at, g.order_id
"""

TABLE_QUERIES = {
    "orders": _ORDER_ROWS,
    "order_items": r"""
    SELECT g.order_id, g.business_date, i.it.line_id, CAST(i.n AS INTEGER) AS line_number,
           g.store_id, g.created_at, i.it.product_id, i.it.name, i.it.category,
           CAST(i.it.quantity AS BIGINT) AS quantity, money(i.it.unit_price) AS unit_price,
           money(i.it.discount) AS discount, money(i.it.tax) AS tax,
           money(i.it.line_total) AS line_total, i.it.status,
           CAST(coalesce(len(i.it.modifiers), 0) AS INTEGER) AS modifier_count,
           CAST(NULL AS VARCHAR) AS extra_json, g.cand AS _cand
    FROM items AS i JOIN winners AS g USING (cand)
    ORDER BY g.created_at, g.order_id, i.n
    """,
    "order_item_modifiers": r"""
    SELECT g.order_id, g.business_date, m.line_id, CAST(m.k AS INTEGER) AS modifier_number,
           m.m.modifier_id, g.created_at, m.m.name,
           coalesce(CAST(m.m.quantity AS BIGINT), 1) AS quantity,
           money(m.m.unit_price) AS unit_price, CAST(NULL AS VARCHAR) AS extra_json,
           g.cand AS _cand
    FROM mods AS m JOIN winners AS g USING (cand)
    ORDER BY g.created_at, g.order_id, m.n, m.k
    """,
    "payments": r"""
    SELECT g.order_id, g.business_date, p.p.payment_id, g.store_id, g.created_at,
           p.p.method, money(p.p.amount) AS amount, money(p.p.tip) AS tip, p.p.status,
           CAST(p.p.paid_at AS TIMESTAMPTZ) AS paid_at, CAST(NULL AS VARCHAR) AS extra_json,
           g.cand AS _cand
    FROM pays AS p JOIN winners AS g USING (cand)
    ORDER BY g.created_at, g.order_id, p.n
    """,
}

# The latest valid version of each order in the chunk (merge.py's rule; a tie goes to the earlier
# line, as Python's max() keeps the first), whatever its date; the winners are those of the day.
BEST = r"""
CREATE OR REPLACE TEMP TABLE best AS
SELECT * EXCLUDE (rank) FROM (
    SELECT *, row_number() OVER (
        PARTITION BY order_id
        ORDER BY updated_at DESC, is_event DESC, kind DESC, occurred_at DESC NULLS LAST, cand
    ) AS rank
    FROM keys
) WHERE rank = 1
"""

KEYS = r"""
CREATE OR REPLACE TEMP TABLE keys AS
SELECT cand, order_id, updated_at, source <> 'api' AS is_event,
       coalesce(event_kind = 'updated', false) AS kind, occurred_at, business_date
FROM good
UNION ALL
SELECT * FROM python_keys
"""

WINNERS = r"""
CREATE OR REPLACE TEMP TABLE winners AS
SELECT g.* FROM good AS g SEMI JOIN best USING (cand) WHERE g.business_date = $business_date
"""
