"""The SQL of the fast path: one chunk of staged lines into checked rows and the four tables.

Lines in the canonical layout -- compact, keys in the contract's order, no escapes, every value
of a form the Python reader accepts, which ``layout.canonical_pattern`` states as one regular
expression, matched in Arrow before the lines reach DuckDB -- are read with every value as text
(``CONV``); the pattern leaves only id lengths, ranges, calendars, zones and repeated ids
to check. Any other line is read by
``json_transform_strict`` into the structure of ``layout.py`` with every value kept as its JSON
text, so its types are judged as the Python reader judges them (``CONV_OTHER``). Every rule
mirrors :mod:`grafterr_pipeline.normalise.orders` and is *conservative*: a line the SQL cannot
prove valid is not rejected here but handed to the Python reference, which accepts it after
all or gives the reason to quarantine it. So the SQL never words a reason, and the two paths
cannot disagree about what is valid.

Why a line ``CONV_OTHER`` accepts holds no unknown field. The strict reader fails (and the line
goes to Python) when a known key is missing -- but for the three keys the contract lets
Grafterr leave out, which are read apart --, appears twice, or holds an object or list of the
wrong kind. A line without a backslash has no escapes, so each string value's JSON text, as
DuckDB writes it back, is the string as sent; integers are written back as sent (``-0`` only
gets shorter); numbers with a fraction come back as their shortest round-trip text, never
longer than sent when they have no exponent and at most 15 significant digits, which the lines
that hold one are checked for. So the known keys and values, laid out as compact JSON, take at
most the line's length, and any unknown key or blank adds to it: equal lengths mean there is
none.

The queries read ``lines`` (``cand``, ``line``, ``canonical``: whether the line matches
``layout.canonical_pattern``); ``BEST`` reads ``keys``. Values are bound, never formatted in.
"""

from __future__ import annotations

from grafterr_pipeline.normalise.layout import (
    ITEM,
    LINE,
    MODIFIER,
    OPTIONAL,
    ORDER,
    PAYMENT,
    object_size,
    value_size,
)

__all__ = ["BEST", "CONV", "CONV_OTHER", "MACROS"]

# JSON text ``j`` of a value, read as values.py reads it. Text: a JSON string only (a number
# as text goes to Python). Ids: a string with a visible character, at most 128 bytes, or an
# integer. Money: what _MONEY_TEXT accepts, as a string or a number. Timestamps: the ISO form
# Grafterr sends, offset required, at most microseconds.
MACROS = r"""
CREATE OR REPLACE TEMP MACRO is_text(j) AS j IS NULL OR starts_with(j, '"');
CREATE OR REPLACE TEMP MACRO txt(j) AS
    CASE WHEN starts_with(j, '"') THEN json_extract_string(j, '$') END;
CREATE OR REPLACE TEMP MACRO bare(j) AS json_extract_string(j, '$');
CREATE OR REPLACE TEMP MACRO whole(j) AS regexp_full_match(j, '-?[0-9]+');
CREATE OR REPLACE TEMP MACRO visible(v) AS
    (v >= '"!' AND v < '""') OR (v >= '"#' AND v < chr(34) || chr(127));
CREATE OR REPLACE TEMP MACRO id_ok(j) AS CASE WHEN starts_with(j, '"')
    THEN strlen(j) <= 130 AND visible(CAST(j AS VARCHAR)) ELSE whole(j) END;
CREATE OR REPLACE TEMP MACRO money_ok(j) AS
    j IS NULL OR regexp_full_match(j, '"?-?[0-9]{1,16}(\.[0-9]{1,2})?"?');
CREATE OR REPLACE TEMP MACRO money(j) AS TRY_CAST(bare(j) AS DECIMAL(18, 2));
CREATE OR REPLACE TEMP MACRO fraction(j) AS NOT starts_with(j, '"') AND contains(j, '.');
CREATE OR REPLACE TEMP MACRO ts_form(j) AS regexp_full_match(j,
    '"(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?'
    '(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"');
CREATE OR REPLACE TEMP MACRO ts(j) AS TRY_CAST(txt(j) AS TIMESTAMPTZ);
CREATE OR REPLACE TEMP MACRO int_ok(j, low) AS j IS NULL
    OR (CAST(TRY_CAST(j AS BIGINT) AS VARCHAR) = j
        AND TRY_CAST(j AS BIGINT) BETWEEN low AND 4611686018427387903);
"""

_OPTIONAL_SIZE = " + ".join(
    f"CASE WHEN has_{key} THEN {len(key) + 4} + {value_size(key, ORDER[key])} ELSE 0 END"
    for key in OPTIONAL
)
# A line's known keys and values as compact JSON, lists counted as brackets and commas only.
_LINE_SIZE = (
    f"{object_size('parsed', LINE, skip=('order',))} + {len('order') + 4} + CASE WHEN d IS NULL "
    f"THEN 4 ELSE {object_size('d', ORDER, skip=OPTIONAL)} + {_OPTIONAL_SIZE} END"
)
_PATHS = "[" + ", ".join(f"'$.order.{key}'" for key in OPTIONAL) + "]"

# One row per line; lines with a backslash are left out (they go to Python), and a line the
# strict reading refuses has an all-null row (filtering on it would read every line twice).
# The strict reading leaves out the keys the contract lets Grafterr omit: they are read by
# path, which tells an absent key (SQL null) from a null one (JSON ``null``).
_PARSED = f"""
SELECT cand, r.source, r.event_kind, r.occurred_at, r."order" AS d, line_size,
       opt[1] IS NOT NULL AS has_customer, opt[2] IS NOT NULL AS has_covers,
       opt[3] IS NOT NULL AS has_table_number,
       CASE WHEN starts_with(opt[1], '{{') THEN try(json_transform_strict(opt[1], $customer_spec))
       END AS customer,
       opt[1] AS customer_json,
       nullif(opt[2], 'null') AS covers, nullif(opt[3], 'null') AS table_number
FROM (
    SELECT cand, r, strlen(line) - 1 AS line_size,
           CASE WHEN r IS NOT NULL THEN json_extract(line, {_PATHS}) END AS opt
    FROM (
        SELECT cand, line, try(json_transform_strict(line, $spec)) AS r
        FROM lines WHERE canonical IS NOT true AND NOT contains(line, '\\')
    )
)
"""

# Each list element read into its row's values, whether it is valid, its size as compact JSON
# and whether it holds money with a fraction.
_MODIFIER = f"""lambda m, k: {{
    'k': k, 'modifier_id': bare(m.modifier_id), 'name': txt(m.name),
    'quantity': coalesce(TRY_CAST(m.quantity AS BIGINT), 1), 'unit_price': money(m.unit_price),
    'ok': coalesce(m IS NOT NULL AND (m.modifier_id IS NULL OR id_ok(m.modifier_id))
                   AND is_text(m.name) AND int_ok(m.quantity, 0) AND money_ok(m.unit_price),
                   false),
    'size': CASE WHEN m IS NULL THEN 4 ELSE {object_size("m", MODIFIER)} END,
    'fractions': coalesce(fraction(m.unit_price), false)}}"""
_ITEM = f"""lambda it, n: {{
    'n': n, 'line_id': bare(it.line_id), 'product_id': bare(it.product_id),
    'name': txt(it.name), 'category': txt(it.category),
    'quantity': TRY_CAST(it.quantity AS BIGINT), 'unit_price': money(it.unit_price),
    'discount': money(it.discount), 'tax': money(it.tax), 'line_total': money(it.line_total),
    'status': txt(it.status), 'modifier_count': coalesce(len(it.modifiers), 0),
    'ok': coalesce(it IS NOT NULL AND it.line_id IS NOT NULL AND id_ok(it.line_id)
                   AND (it.product_id IS NULL OR id_ok(it.product_id))
                   AND is_text(it.name) AND is_text(it.category) AND is_text(it.status)
                   AND it.quantity IS NOT NULL AND int_ok(it.quantity, 0)
                   AND money_ok(it.unit_price) AND money_ok(it.discount)
                   AND money_ok(it.tax) AND money_ok(it.line_total), false),
    'size': CASE WHEN it IS NULL THEN 4 ELSE {object_size("it", ITEM)} END,
    'fractions': coalesce(fraction(it.unit_price) OR fraction(it.discount) OR fraction(it.tax)
                          OR fraction(it.line_total), false),
    'modifiers': list_transform(it.modifiers, {_MODIFIER})}}"""
_PAYMENT = f"""lambda p, n: {{
    'n': n, 'payment_id': bare(p.payment_id), 'method': txt(p.method),
    'amount': money(p.amount), 'tip': money(p.tip), 'status': txt(p.status),
    'paid_at': ts(p.paid_at),
    'ok': coalesce(p IS NOT NULL AND p.payment_id IS NOT NULL AND id_ok(p.payment_id)
                   AND is_text(p.method) AND is_text(p.status)
                   AND money_ok(p.amount) AND money_ok(p.tip)
                   AND (p.paid_at IS NULL OR ts_form(p.paid_at)), false),
    'paid_given': p.paid_at IS NOT NULL,
    'size': CASE WHEN p IS NULL THEN 4 ELSE {object_size("p", PAYMENT)} END,
    'fractions': coalesce(fraction(p.amount) OR fraction(p.tip), false)}}"""

_HEAD_OK = r"""
    (customer_json IS NULL OR customer_json = 'null' OR customer IS NOT NULL)
    AND source IS NOT NULL AND starts_with(source, '"')
    AND is_text(event_kind) AND (occurred_at IS NULL OR ts_form(occurred_at))
    AND d IS NOT NULL AND d.order_id IS NOT NULL AND id_ok(d.order_id)
    AND d.store IS NOT NULL AND d.store.store_id IS NOT NULL
    AND id_ok(d.store.store_id) AND is_text(d.store.name)
    AND d.store.timezone IS NOT NULL AND is_text(d.store.timezone)
    AND is_text(d.channel) AND is_text(d.order_type) AND is_text(d.status)
    AND d.created_at IS NOT NULL AND ts_form(d.created_at)
    AND d.updated_at IS NOT NULL AND ts_form(d.updated_at)
    AND is_text(d.currency) AND is_text(table_number)
    AND int_ok(d.order_number, -4611686018427387903)
    AND int_ok(covers, 0) AND (covers IS NULL OR TRY_CAST(covers AS INTEGER) IS NOT NULL)
    AND (customer.customer_id IS NULL OR id_ok(customer.customer_id))
    AND is_text(customer.name) AND is_text(customer.phone) AND is_text(customer.email)
    AND (customer.email IS NULL OR customer.email = '""'
         OR regexp_full_match(txt(customer.email), '[!-~]([ -~]*[!-~])?'))
    AND money_ok(d.totals.subtotal) AND money_ok(d.totals.discount)
    AND money_ok(d.totals.service_charge) AND money_ok(d.totals.tax)
    AND money_ok(d.totals.tip) AND money_ok(d.totals.total)"""

# One row per line: the order's values, its lines and payments as lists of rows, and what the
# checks need (``ok``: every value valid; ``size_left``: the line's length less what its known
# keys take, which is 0 for a line with nothing else; ``fractions``).
_CONVERT = f"""
SELECT cand, txt(source) AS source, txt(event_kind) AS event_kind,
       ts(occurred_at) AS occurred_at, occurred_at IS NOT NULL AS occurred_given,
       bare(d.order_id) AS order_id,
       TRY_CAST(d.order_number AS BIGINT) AS order_number,
       bare(d.store.store_id) AS store_id, txt(d.store.name) AS store_name,
       txt(d.store.timezone) AS store_timezone, txt(d.channel) AS channel,
       txt(d.order_type) AS order_type, txt(d.status) AS status,
       ts(d.created_at) AS created_at, ts(d.updated_at) AS updated_at,
       txt(d.currency) AS currency, TRY_CAST(covers AS INTEGER) AS covers,
       txt(table_number) AS table_number, bare(customer.customer_id) AS customer_id,
       txt(customer.name) AS customer_name, txt(customer.email) AS customer_email,
       txt(customer.phone) AS customer_phone,
       money(d.totals.subtotal) AS subtotal, money(d.totals.discount) AS discount,
       money(d.totals.service_charge) AS service_charge, money(d.totals.tax) AS tax,
       money(d.totals.tip) AS tip, money(d.totals.total) AS total,
       coalesce({_HEAD_OK}, false) AS ok,
       line_size - ({_LINE_SIZE}) AS size_left,
       coalesce(fraction(d.totals.subtotal) OR fraction(d.totals.discount)
                OR fraction(d.totals.service_charge) OR fraction(d.totals.tax)
                OR fraction(d.totals.tip) OR fraction(d.totals.total), false) AS fractions,
       false AS canonical,
       list_transform(d.items, {_ITEM}) AS items,
       list_transform(d.payments, {_PAYMENT}) AS payments
FROM ({_PARSED}) AS parsed
"""

# The same rows for lines in the canonical layout (``layout.canonical_pattern``): their keys and
# the form of their values are known, so they are read as text, with only what the pattern
# cannot tell left to check: id lengths, ranges, and (with ``proven.py``) calendars, zones,
# repeated ids.
_C_MODIFIER = """lambda m, k: {
    'k': k, 'modifier_id': m.modifier_id, 'name': m.name,
    'quantity': coalesce(CAST(m.quantity AS BIGINT), 1),
    'unit_price': CAST(m.unit_price AS DECIMAL(18, 2)),
    'ok': coalesce(m IS NOT NULL AND strlen(m.modifier_id) <= 128, m IS NOT NULL)
          AND coalesce(CAST(m.quantity AS BIGINT) >= 0, true),
    'size': CAST(0 AS BIGINT), 'fractions': false}"""
_C_ITEM = f"""lambda it, n: {{
    'n': n, 'line_id': it.line_id, 'product_id': it.product_id, 'name': it.name,
    'category': it.category, 'quantity': CAST(it.quantity AS BIGINT),
    'unit_price': CAST(it.unit_price AS DECIMAL(18, 2)),
    'discount': CAST(it.discount AS DECIMAL(18, 2)), 'tax': CAST(it.tax AS DECIMAL(18, 2)),
    'line_total': CAST(it.line_total AS DECIMAL(18, 2)), 'status': it.status,
    'modifier_count': coalesce(len(it.modifiers), 0),
    'ok': coalesce(strlen(it.line_id) <= 128 AND CAST(it.quantity AS BIGINT) >= 0
                   AND coalesce(strlen(it.product_id) <= 128, true), false),
    'size': CAST(0 AS BIGINT), 'fractions': false,
    'modifiers': list_transform(it.modifiers, {_C_MODIFIER})}}"""
_C_PAYMENT = """lambda p, n: {
    'n': n, 'payment_id': p.payment_id, 'method': p.method,
    'amount': CAST(p.amount AS DECIMAL(18, 2)), 'tip': CAST(p.tip AS DECIMAL(18, 2)),
    'status': p.status, 'paid_at': TRY_CAST(p.paid_at AS TIMESTAMPTZ),
    'ok': coalesce(strlen(p.payment_id) <= 128, false), 'paid_given': p.paid_at IS NOT NULL,
    'size': CAST(0 AS BIGINT), 'fractions': false}"""

_CANONICAL = f"""
SELECT cand, source, event_kind, TRY_CAST(occurred_at AS TIMESTAMPTZ) AS occurred_at,
       occurred_at IS NOT NULL AS occurred_given, d.order_id,
       CAST(d.order_number AS BIGINT) AS order_number, d.store.store_id,
       d.store.name AS store_name, d.store.timezone AS store_timezone, d.channel, d.order_type,
       d.status, TRY_CAST(d.created_at AS TIMESTAMPTZ) AS created_at,
       TRY_CAST(d.updated_at AS TIMESTAMPTZ) AS updated_at, d.currency,
       TRY_CAST(d.covers AS INTEGER) AS covers, d.table_number,
       d.customer.customer_id, d.customer.name AS customer_name,
       d.customer.email AS customer_email, d.customer.phone AS customer_phone,
       CAST(d.totals.subtotal AS DECIMAL(18, 2)) AS subtotal,
       CAST(d.totals.discount AS DECIMAL(18, 2)) AS discount,
       CAST(d.totals.service_charge AS DECIMAL(18, 2)) AS service_charge,
       CAST(d.totals.tax AS DECIMAL(18, 2)) AS tax, CAST(d.totals.tip AS DECIMAL(18, 2)) AS tip,
       CAST(d.totals.total AS DECIMAL(18, 2)) AS total,
       coalesce(source IS NOT NULL AND strlen(d.order_id) <= 128
                AND strlen(d.store.store_id) <= 128
                AND coalesce(strlen(d.customer.customer_id) <= 128, true)
                AND (d.covers IS NULL OR TRY_CAST(d.covers AS INTEGER) >= 0), false) AS ok,
       CAST(0 AS BIGINT) AS size_left, false AS fractions, true AS canonical,
       list_transform(d.items, {_C_ITEM}) AS items,
       list_transform(d.payments, {_C_PAYMENT}) AS payments
FROM (
    SELECT cand, r.source, r.event_kind, r.occurred_at, r."order" AS d
    FROM (
        SELECT cand, json_transform(line, $text_spec) AS r
        FROM lines WHERE canonical
    )
)
"""

# The rows of ``_CANONICAL`` (CONV) or of ``_CONVERT`` (CONV_OTHER, run only when a chunk has
# lines of another layout: as a UNION ALL beside the other, it cost ~15% more when it had none),
# with the orders table's columns in the privacy mode. They go to Arrow rather than into a DuckDB
# table: storing the nested lists and reading them back twice cost a fifth of the chunk. What
# needs a whole list (``lists_ok``, ``item_count``) is added there by ``listfacts.py`` (a lambda
# pass per question over every list cost a fifth of this query), and which rows are proven
# valid is decided there too (``proven.py``).
_CONV = """
SELECT * REPLACE (CASE WHEN $pii = 'keep' THEN customer_name END AS customer_name,
                  CASE WHEN $pii = 'keep' THEN customer_email END AS customer_email,
                  CASE WHEN $pii = 'keep' THEN customer_phone END AS customer_phone),
       CASE WHEN $pii <> 'drop' AND customer_email <> ''
            THEN sha256($salt || lower(customer_email)) END AS customer_email_sha256,
       CAST(coalesce(len(items), 0) AS INTEGER) AS line_count,
       CAST(coalesce(len(payments), 0) AS INTEGER) AS payment_count,
       CAST(NULL AS VARCHAR) AS extra_json,
       {lists}
FROM ({rows})
"""
# The lists' size as compact JSON and whether they hold money with a fraction: needed only for
# lines out of the canonical layout, whose lengths and forms the pattern did not prove.
_LISTS = """
       coalesce(list_sum([i.size + coalesce(list_sum([m.size FOR m IN i.modifiers]), 0)
                          FOR i IN items]), 0)
       + coalesce(list_sum([p.size FOR p IN payments]), 0) AS lists_size,
       coalesce(list_bool_or([
           i.fractions OR coalesce(list_bool_or([m.fractions FOR m IN i.modifiers]), false)
           FOR i IN items]), false)
       OR coalesce(list_bool_or([p.fractions FOR p IN payments]), false) AS lists_fractions"""
CONV = _CONV.format(
    rows=_CANONICAL, lists="CAST(0 AS BIGINT) AS lists_size, false AS lists_fractions"
)
CONV_OTHER = _CONV.format(rows=_CONVERT, lists=_LISTS.strip())

# The latest valid version of each order in the chunk (merge.py's rule; a tie goes to the earlier
# line, as Python's max() keeps the first), whatever its date, from ``keys`` (``KEYS_SCHEMA``).
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
