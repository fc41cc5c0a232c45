"""Who is asking, and may they: the dependency every protected route declares.

    @router.post("/v1/commands")
    def post(principal: Principal = Depends(require("transfer")), service: Service = Depends(get_service)):
        with service.acting(principal.actor) as ledger: ...

A request authenticates with an API token (`tenge-ledger token create --actor NAME`), either as
`Authorization: Bearer <token>` (programs) or in the `tenge_session` cookie (browsers: the console's
login page sets it once, HttpOnly and SameSite=Strict). No token, an unknown, revoked or malformed
one: 401. The token's actor must then be allowed the action by the ledger's roles policy (the
recorded one; the `--roles` bootstrap while none is recorded): else 403, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from domain.roles import ACTIONS
from ledger.http.service import Service
from ledger.roles import NotAllowed

SESSION_COOKIE = "tenge_session"

bearer_scheme = HTTPBearer(auto_error=False, description="an API token: `tenge-ledger token create --actor NAME`")
cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                             description="the console's session: the same token, set by POST /login")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: the actor its token acts as."""

    actor: str


def get_service(request: Request) -> Service:
    """The process's `Service` (set by `create_app`)."""
    service: Service = request.app.state.service
    return service


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def authenticate(request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
                 cookie: str | None = Depends(cookie_scheme),
                 service: Service = Depends(get_service)) -> Principal:
    """The principal of a request's bearer token or session cookie; 401 without a valid one."""
    token = bearer.credentials if bearer is not None else cookie
    if not token:
        raise unauthorized("authentication needed: Authorization: Bearer <token> (tenge-ledger token create)")
    actor = service.actor_of(token)
    if actor is None:
        raise unauthorized("the token is unknown or revoked")
    request.state.actor = actor  # for the access log
    return Principal(actor)


def require(*actions: str) -> Callable[..., Principal]:
    """A dependency: the authenticated principal, if the roles policy allows every action (403 if not)."""
    assert actions and all(action in ACTIONS for action in actions), actions

    def dependency(principal: Principal = Depends(authenticate), service: Service = Depends(get_service)) -> Principal:
        with service.acting(principal.actor) as ledger:
            try:
                ledger.authorize(*actions)
            except NotAllowed as refused:
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(refused)) from refused
        return principal

    return dependency
