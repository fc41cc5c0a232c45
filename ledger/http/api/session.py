"""The console's session: a login page that takes an API token once and keeps it in an HttpOnly,
SameSite=Strict cookie (`tenge_session`), so a browser sends it with every request of the same
site and no script can read it; `/logout` clears it. The token is checked before it is kept."""

from __future__ import annotations

import html

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger.http.auth import SESSION_COOKIE, get_service
from ledger.http.service import Service

router = APIRouter(tags=["session"], include_in_schema=False)

SESSION_SECONDS = 12 * 3600

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tenge-ledger — sign in</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto}}input{{width:100%;padding:.4rem}}
.problem{{color:#a00}}</style></head>
<body><h1>tenge-ledger</h1>
<p>Sign in with your API token (an admin creates it: <code>tenge-ledger token create --actor NAME</code>).</p>
{problem}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label>Token <input type="password" name="token" autocomplete="off" required autofocus></label>
<p><button type="submit">Sign in</button></p></form></body></html>
"""


def _safe_next(target: str) -> str:
    """Only a path of this site (no scheme, no other host)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def login_page(problem: str = "", next_path: str = "/", status_code: int = 200) -> HTMLResponse:
    shown = f'<p class="problem">{html.escape(problem)}</p>' if problem else ""
    return HTMLResponse(LOGIN_PAGE.format(problem=shown, next=html.escape(_safe_next(next_path))), status_code=status_code)


@router.get("/login", response_class=HTMLResponse)
def show_login(next: str = "/") -> HTMLResponse:  # noqa: A002 - the query parameter's name
    return login_page(next_path=next)


@router.post("/login")
def login(request: Request, token: str = Form(...), next: str = Form("/"),  # noqa: A002
          service: Service = Depends(get_service)) -> Response:
    actor = service.actor_of(token.strip())
    if actor is None:
        return login_page("That token is unknown or revoked.", next, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token.strip(), max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
