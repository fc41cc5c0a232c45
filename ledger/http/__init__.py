"""The HTTP face (`tenge-ledger serve`): the API for treasury systems and the auditors' console.

A face like `ledger.cli`: it composes the core (`ledger.app.Ledger`, `ledger.read.ReadSide`) and the
integrity layer; the core never imports it. `app.create_app(settings)` builds the ASGI application;
`routes.ROUTERS` lists the routers it includes; `auth.require(action)` authenticates a request (a
bearer API token, or the console's session cookie holding the same token) and checks the action
against the ledger's roles policy; `service.Service` holds the process's ledger.
"""
