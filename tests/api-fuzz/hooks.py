"""Schemathesis hooks for the Sunproof API (loaded by scripts/api-fuzz.sh).

role_enforced: every protected operation lists its roles in the OpenAPI
extension x-sunproof-roles. The fuzzing runs once per role with that role's
token (SUNPROOF_FUZZ_ROLE, SUNPROOF_FUZZ_TOKEN) and once without a token
(role "none"). For each response to a request that carried the run's
credentials, the check demands:

- no token: 401 from every protected operation;
- a role not listed: 403;
- a listed role: anything but 401 and 403.
"""

import os

import schemathesis

ROLE = os.environ.get("SUNPROOF_FUZZ_ROLE", "")
TOKEN = os.environ.get("SUNPROOF_FUZZ_TOKEN", "")


def _sent_token(response) -> str:
    try:
        auth = response.request.headers.get("Authorization", "") or ""
    except AttributeError:
        return ""
    return auth[len("Bearer "):] if auth.startswith("Bearer ") else auth


@schemathesis.check
def role_enforced(ctx, response, case):
    if not ROLE:
        return None
    roles = case.operation.definition.raw.get("x-sunproof-roles")
    if roles is None:  # a public operation
        return None
    label = f"{case.method.upper()} {case.path}"
    status = response.status_code
    if status == 405:  # an undocumented method: refused before authentication
        return None
    sent = _sent_token(response)
    if ROLE == "none":
        if sent:  # a probe by another check that added credentials
            return None
        if status != 401:
            raise AssertionError(f"{label} without a token answered {status}, want 401")
        return None
    if sent != TOKEN:  # a probe with removed or invalid credentials
        return None
    if ROLE in roles:
        if status in (401, 403):
            raise AssertionError(f"{label} refused role {ROLE} ({status}) although x-sunproof-roles lists it: {roles}")
    elif status != 403:
        raise AssertionError(f"{label} answered role {ROLE} with {status}, want 403 (x-sunproof-roles: {roles})")
    return None
