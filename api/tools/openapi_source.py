#!/usr/bin/env python3
"""Writes api/openapi.json from the compact route table below (run after editing it; the api test
checks the document against the server's routes)."""
import json, pathlib

WINDOW = [("from", "RFC 3339 or epoch ms; default the start of the current shift"),
          ("to", "RFC 3339 or epoch ms; default now")]
NODE = [("node", "site, area, line or machine path; default the whole plant")]
BY = [("by", "hour, day or shift")]
KPI_BY = [("by", "hour, day, shift, crew, or run (node a machine or a line: its runs with a stretch in the window, the one open at 'from' included, each with its KPIs; a line's runs are its machines' merged per order id; window at most 92 days)")]

# path, method, summary, role (None = public), query params, request body fields, paged (None, or
# "object"/"array": a list route whose next page is in `next` and the Link header, docs/api.md)
ROUTES = [
  ('/healthz', 'get', 'Liveness', None, [], None, None),
  ('/readyz', 'get', 'Readiness: storage open (and MQTT connected when configured)', None, [], None, None),
  ('/metrics', 'get', 'Prometheus metrics (text format)', 'viewer', [], None, None),
  ('/api/v1/openapi.json', 'get', 'This document', 'viewer', [], None, None),
  ('/api/v1/login', 'post', 'Log in: a session token with an expiry (idle timeout and lifetime); failed logins back off per client address (429 with Retry-After)', None, [], {'user': 'string', 'password': 'string'}, None),
  ('/api/v1/logout', 'post', 'End the session of the token used', 'viewer', [], None, None),
  ('/api/v1/me', 'get', 'Who the token belongs to and its role; a session also gets its own full_name and email', 'viewer', [], None, None),
  ('/api/v1/users', 'get', 'Users, each with its pseudonym; full_name and email masked (J*** D***, j***@example.com)', 'admin', [], None, None),
  ('/api/v1/users', 'post', 'Create a user', 'admin', [], {'name': 'string', 'password': 'string', 'role': 'display|viewer|operator|supervisor|admin', 'full_name': 'string (optional, at most 128 bytes)', 'email': 'string (optional, an e-mail address, at most 254 bytes)'}, None),
  ('/api/v1/users/update', 'post', "Change a user's role, password or personal data", 'admin', [], {'name': 'string', 'password': 'string (optional)', 'role': 'display|viewer|operator|supervisor|admin (optional)', 'full_name': 'string (optional; empty removes it)', 'email': 'string (optional; empty removes it)'}, None),
  ('/api/v1/users/erase', 'post', "GDPR erasure: the user's name becomes erased-PSEUDONYM, personal data and password go, sessions end, comments keep the pseudonym; 404 unknown user, 409 last admin (docs/security.md, Privacy)", 'admin', [], {'name': 'string'}, None),
  ('/api/v1/tokens', 'get', 'API tokens and sessions (ids, never the secrets)', 'admin', [], None, None),
  ('/api/v1/tokens', 'post', 'Create an API token (the secret is in the reply, once)', 'admin', [], {'name': 'string', 'role': 'display|viewer|operator|supervisor|admin'}, None),
  ('/api/v1/tokens/revoke', 'post', 'Revoke a token or session by id', 'admin', [], {'id': 'string'}, None),
  ('/api/v1/tokens/rotate', 'post', 'Rotate an API token: a new token (secret in the reply, once; 201) with the same name and role; the old one keeps working for overlap_s, then ends (its WebSockets close)', 'admin', [], {'id': 'string', 'overlap_s': 'integer: seconds the old token stays valid, 0..604800 (7 days), default 3600'}, None),
  ('/api/v1/audit', 'get', 'The audit trail, newest first', 'admin', [('limit', 'most items per page, 1..10000 (more: 400), default 100'), ('before', 'id to page back from'), ('cursor', "the 'next' of the previous page (also in its Link header)")], None, 'object'),
  ('/api/v1/audit/verify', 'get', 'Check the audit hash chain', 'admin', [], None, None),
  ('/api/v1/plant', 'get', "The plant's name and tree with each machine's description, live state and no_data flag, the current shift (name, crew, from, to, breaks with their names), the server's clock (now) and its clock_rate (its seconds per wall-clock second: 1, or the demo's --speed)", 'viewer', [], None, None),
  ('/api/v1/kpis', 'get', 'KPIs of a node and window, optionally per bucket (no_data_s: time silent beyond no_data_after_s); window at most 366 days (longer: 400)', 'viewer', NODE + WINDOW + KPI_BY, None, None),
  ('/api/v1/dead-letters', 'get', 'Events and messages that could not be taken, newest first', 'viewer', [('limit', 'most items per page, 1..10000 (more: 400), default 100'), ('before', 'id to page back from'), ('cursor', "the 'next' of the previous page (also in its Link header)")], None, 'object'),
  ('/api/v1/conflicts', 'get', 'Conflicts: events sent again under a stored src+inc+seq with other content, beside the stored version (newest first)', 'viewer', [('limit', '1..1000, default 100'), ('before', 'id to page back from')], None, None),
  ('/api/v1/sources', 'get', 'Per-source statistics (seq gaps, clock offset)', 'viewer', [('limit', 'most items per page, 1..10000 (more: 400), default 10000'), ('cursor', "the 'next' of the previous page (also in its Link header)")], None, 'array'),
  ('/api/v1/timeline', 'get', "A machine's state intervals and counter data-quality issues in a window; window at most 31 days (longer: 400)", 'viewer', [('machine', 'machine path')] + WINDOW + [('limit', 'most items per page, 1..10000 (more: 400), default 10000'), ('cursor', "the 'next' of the previous page (also in its Link header)")], None, 'object'),
  ('/api/v1/stops', 'get', 'Stops with durations, kinds, reasons and comments, newest first; window at most 31 days (longer: 400)', 'viewer', NODE + WINDOW + [('limit', 'most items per page, 1..10000 (more: 400), default 100'), ('offset', 'from 0'), ('cursor', "the 'next' of the previous page (also in its Link header)")], None, 'object'),
  ('/api/v1/stops/reason', 'post', "Assign or change a stop's reason (a reason event; on a part of a stop a reclassify correction covers, e.g. a split, a correction of that part made by the caller); with a reason tree a code of it (else 400 unknown_reason), without one free text", 'operator', [], {'machine': 'string', 'at': 'RFC 3339 instant inside the stop', 'reason': 'string'}, None),
  ('/api/v1/stops/split', 'post', "Split an ended unplanned stop in two at an instant inside it, each part with its reason: two reclassify corrections (reason only) made by the caller, audited (stop.split); each part then counts as a stop. 201 {machine, split, previous_reason, parts:[{from, to, reason}]}; 400 not_a_stop, open_stop (the stop still lasts), bad_body (split not inside the stop, empty reason), unknown_reason", 'operator', [], {'machine': 'string', 'at': 'RFC 3339 instant inside the stop', 'split': 'RFC 3339 instant strictly inside the stop', 'before': 'reason of the part before split (a code of the reason tree when there is one)', 'after': 'reason of the part from split on (a code of the reason tree when there is one)'}, None),
  ('/api/v1/alerts', 'get', 'Alerts of the plant file\'s rules: firing ones first, then resolved ones, newest first (id, rule, kind, subject, state, fired_at, resolved_at, resolved_reason: cleared, rule_removed or node_removed, null while firing; acknowledged_by, acknowledged_at)', 'viewer', [], None, None),
  ('/api/v1/alerts/acknowledge', 'post', 'Acknowledge an alert, firing or resolved: the episode of the id that fired at fired_at, else the newest (audited); 404 unknown_alert, 409 already_acknowledged', 'operator', [], {'id': 'string: the alert id', 'fired_at': 'optional: the episode, its fired_at as GET /api/v1/alerts gives it (RFC 3339); default the newest'}, None),
  ('/api/v1/alerts/rules', 'get', "The plant file's alert rules as configured: name, kind, node (edge for edge_queue_growing), for_s; target (null: the machine's targets.oee) and after_shift_start_s for oee_below_target", 'viewer', [], None, 'array'),
  ('/api/v1/edges', 'get', "The newest status report of each edge over MQTT (docs/mqtt.md), by edge id: edge, status (the report as sent: state, ts, queue_depth, oldest_unsent_age_ms, ...; null with a problem when it is not a JSON object)", 'viewer', [], None, 'array'),
  ('/api/v1/reasons', 'get', "The plant's reason tree: codes, names, levels, parents and losses", 'viewer', [], None, None),
  ('/api/v1/stops/comment', 'post', 'Comment on a stop', 'operator', [], {'machine': 'string', 'at': 'RFC 3339 instant inside the stop', 'text': 'string'}, None),
  ('/api/v1/runs', 'get', "A machine's production runs (work orders) that start in the window, each up to min(to, now): target against good count, remaining, expected finish, changeover (docs/oee-model.md); window at most 31 days (longer: 400)", 'viewer', [('machine', 'machine path')] + WINDOW, None, None),
  ('/api/v1/runs', 'post', 'Start or end a production run (a run event, docs/events.md); answers 201 with the stored event', 'operator', [], {'machine': 'string', 'action': 'start or end', 'run': 'the order id', 'product': 'string (start)', 'quantity': 'integer: planned good parts (start)', 'ideal_cycle_s': 'a number of seconds above 0, optional override of the ideal cycle time (start)', 'ts': 'RFC 3339 instant, default now'}, None),
  ('/api/v1/corrections', 'get', "Corrections of the machines under a node whose range (or instant) overlaps the window, whenever made, in the order made (docs/oee-model.md, Corrections); window at most 366 days (longer: 400)", 'viewer', NODE + WINDOW, None, None),
  ('/api/v1/corrections', 'post', "Correct a machine's history (a correction event, docs/events.md): reclassify [at, until) to a state and/or reason, rejects found later, or void a counter reading; made now by the caller, audited (correction.KIND) with who and why; the original events stay. 201 with the stored correction; 400 bad_body (empty range, count 0, no why, ...), unknown_state, unknown_reason, unknown_machine", 'supervisor', [], {'machine': 'string', 'kind': 'reclassify, rejects or void_reading', 'at': 'RFC 3339 or epoch ms: the start of the range, or the instant', 'until': 'RFC 3339 or epoch ms: the end of the range (reclassify)', 'state': 'canonical or mapped state (reclassify, optional)', 'reason': 'reason (a code of the reason tree when there is one; reclassify, optional)', 'reject': 'integer: parts counted good that were bad, from 1 (rejects)', 'name': 'total, good or reject: the counter whose reading at `at` is voided (void_reading)', 'why': 'string, required, at most 2000 bytes'}, None),
  ('/api/v1/rejects', 'post', 'Report rejects the machine did not count (a count event with good 0, docs/events.md), audited; answers 201 with the stored event. A retry with the same ts is a duplicate, not a second report', 'operator', [], {'machine': 'string', 'reject': 'integer: parts, at least 1', 'ts': 'RFC 3339 instant or epoch ms, default now'}, None),
  ('/api/v1/pareto', 'get', 'Loss Pareto by reason (with the reason coverage), by loss kind, or by root-cause machine (a constraint-mode line); window at most 92 days (longer: 400)', 'viewer', NODE + WINDOW + [('by', 'reason (default), kind, or root_cause (a line in kpi mode constraint: its starved and blocked time by root-cause machine)'), ('level', 'with by=reason and a reason tree: roll reasons up to this level of the tree, 1..depth')], None, None),
  ('/api/v1/counts', 'get', 'Counts and production rate per bucket; window at most 366 days (longer: 400)', 'viewer', NODE + WINDOW + BY + [('limit', 'most items per page, 1..10000 (more: 400), default 10000'), ('cursor', "the 'next' of the previous page (also in its Link header)")], None, 'array'),
  ('/api/v1/tags', 'get', "A machine's tag history downsampled to min/max/avg per bucket; window at most 31 days (longer: 400)", 'viewer', [('machine', 'machine path'), ('tag', 'counter.total, counter.good, counter.reject, count.good, count.reject')] + WINDOW + [('bucket_s', 'bucket width in seconds, default 60'), ('limit', 'most items per page, 1..10000 (more: 400), default 10000'), ('cursor', "the 'next' of the previous page (also in its Link header)")], None, 'object'),
  ('/api/v1/export/kpis.csv', 'get', 'KPIs as CSV; window at most 366 days (longer: 400)', 'viewer', NODE + WINDOW + BY, None, None),
  ('/api/v1/export/stops.csv', 'get', 'Stops as CSV; window at most 92 days (longer: 400)', 'viewer', NODE + WINDOW, None, None),
  ('/api/v1/live', 'get', 'WebSocket: subscribe to nodes (and optionally name the nodes whose KPIs to get, kpis); state changes and rolling current-shift KPIs with the shift and its crew (docs/api.md); the hello message carries the server clock (now, clock_rate). The token in Authorization: Bearer, or from a browser in Sec-WebSocket-Protocol: oee.live.v1, bearer.<the token as unpadded base64url> (the answer names oee.live.v1)', 'viewer', [('access_token', 'deprecated (URLs end up in logs): the bearer token; use the Sec-WebSocket-Protocol header')], None, None),
]

def error(desc):
    return {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

RETRY_AFTER = {"description": "seconds until a request would be let through", "schema": {"type": "integer", "minimum": 1}}
TOO_MANY = dict(error("Over a rate limit (per client address, or per token; on login: too many failed logins from this "
                      "address): code too_many_requests or too_many_attempts"), headers={"Retry-After": RETRY_AFTER})

doc = {
  "openapi": "3.0.3",
  "info": {"title": "OEE platform API", "version": "1.0.0",
           "description": "JSON over HTTP/1.1; times RFC 3339 in the plant's offset; errors {\"error\":{\"code\",\"message\",\"request_id\"?}}. See docs/api.md."},
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "request_id": {"type": "string", "description": "on failures inside the server (5xx): the id under which the server logged the cause; also the X-Request-Id header"}}}}}}},
  "paths": {},
}
LINK = {"description": "<same request with cursor=NEXT>; rel=\"next\" when items are left out (docs/api.md, Paging)",
        "schema": {"type": "string"}}
OK = {None: {"description": "OK"},
      "object": {"description": "OK; object bodies carry \"next\" when items are left out", "headers": {"Link": LINK}},
      "array": {"description": "OK; a bare array, the next page only in the Link header", "headers": {"Link": LINK}}}

for path, method, summary, role, params, body, paged in ROUTES:
    op = {"summary": summary, "responses": {"200": OK[paged], "400": error("Bad input")}}
    if role:
        op["security"] = [{"bearer": []}]
        op["x-role"] = role
        op["responses"]["401"] = error("No valid token (token_in_url: an access_token in the URL of a route other than the WebSocket /api/v1/live)")
        op["responses"]["403"] = error("Role too small")
        op["responses"]["429"] = TOO_MANY
    else:
        op["security"] = []
        if path == '/api/v1/login':
            op["responses"]["429"] = TOO_MANY
    if params:
        op["parameters"] = [{"name": n, "in": "query", "required": n in ("machine",), "description": d, "schema": {"type": "string"}} for n, d in params]
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
            k: ({"type": "integer", "description": v[len("integer: "):]} if v.startswith("integer: ") else {"type": "string", "description": v})
            for k, v in body.items()}}}}}
    doc["paths"].setdefault(path, {})[method] = op

out = pathlib.Path(__file__).resolve().parent.parent / "openapi.json"
out.write_text(json.dumps(doc, indent=1) + "\n")
