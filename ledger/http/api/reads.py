"""(being written)"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from domain.roles import READ
from ledger.http.auth import Principal, get_service, require
from ledger.http.service import Service

router = APIRouter(tags=["read"])


class Me(BaseModel):
    actor: str
    role: str | None


@router.get("/v1/me", response_model=Me)
def me(principal: Principal = Depends(require(READ)), service: Service = Depends(get_service)) -> Me:
    """Who the token acts as, and their role under the ledger's roles policy (None: no policy recorded)."""
    with service.acting(principal.actor) as ledger:
        policy, _version = ledger.policy()
    return Me(actor=principal.actor, role=(policy.actors or {}).get(principal.actor))
