"""The API's routers (one module each); `ledger.http.routes` lists them."""
